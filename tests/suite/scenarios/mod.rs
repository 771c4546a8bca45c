mod instant_batch;
