mod stake;
