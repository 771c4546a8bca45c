use super::*;

#[test]
fn reset_refuses_a_directory_a_localnet_did_not_write() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("thesis.tex"), "years of work")?;
    std::fs::write(dir.path().join(MARKET_FILE), "{}")?;
    let err = prepare_ledger(dir.path(), true)
        .err()
        .ok_or("reset went ahead")?;
    assert!(
        err.to_string().contains("thesis.tex") && err.to_string().contains("refusing to reset"),
        "{err}"
    );
    assert!(dir.path().join("thesis.tex").exists());
    assert!(dir.path().join(MARKET_FILE).exists());
    Ok(())
}

#[test]
fn reset_empties_a_localnet_ledger_and_a_missing_one_is_made(
) -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    for name in [
        MARKET_FILE,
        ADMIN_FILE,
        CLOCK_FILE,
        DB_FILE,
        "surfnet.sqlite-wal",
        "surfnet.sqlite-shm",
    ] {
        std::fs::write(dir.path().join(name), "x")?;
    }
    prepare_ledger(dir.path(), true)?;
    assert_eq!(std::fs::read_dir(dir.path())?.count(), 0);

    let nested = dir.path().join("a/b");
    prepare_ledger(&nested, false)?;
    assert!(nested.is_dir());
    Ok(())
}

#[test]
fn without_reset_the_ledger_is_kept() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join(MARKET_FILE), "{}")?;
    prepare_ledger(dir.path(), false)?;
    assert!(dir.path().join(MARKET_FILE).exists());
    Ok(())
}

#[test]
fn reset_deletes_nothing_when_one_entry_is_not_a_localnet_file(
) -> Result<(), Box<dyn std::error::Error>> {
    for stranger in ["surfnet.sqlite.bak", "surfnet.sqlite-old", "notes"] {
        let dir = tempfile::tempdir()?;
        std::fs::write(dir.path().join(MARKET_FILE), "{}")?;
        std::fs::write(dir.path().join(stranger), "keep me")?;
        let err = prepare_ledger(dir.path(), true)
            .err()
            .ok_or("reset went ahead")?;
        assert!(err.to_string().contains(stranger), "{err}");
        assert!(dir.path().join(MARKET_FILE).exists());
        assert!(dir.path().join(stranger).exists());
    }
    // A directory with a localnet file's name is not a localnet's file either.
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join(CLOCK_FILE), "1")?;
    std::fs::create_dir(dir.path().join(ADMIN_FILE))?;
    assert!(prepare_ledger(dir.path(), true).is_err());
    assert!(dir.path().join(CLOCK_FILE).exists());
    Ok(())
}

#[test]
fn a_ledger_path_a_uri_would_misread_is_refused() -> Result<(), Box<dyn std::error::Error>> {
    for bad in ["a?b", "a#b", "a%20b"] {
        let err = database_path(Path::new(bad)).err().ok_or("accepted")?;
        assert!(err.to_string().contains("may not contain"), "{err}");
    }
    assert_eq!(
        database_path(Path::new("ledger"))?,
        format!("ledger/{DB_FILE}")
    );
    Ok(())
}

#[test]
fn a_ledger_of_other_account_layouts_is_refused() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let market = Market {
        admin: Pubkey::new_unique(),
        stake_mint: Pubkey::new_unique(),
        payment_mint: Pubkey::new_unique(),
        reward_mint: None,
    };
    write_market(dir.path(), &market)?;
    assert_eq!(read_market(dir.path())?, market);
    // What the first layout wrote: no layout number.
    let old = format!(
        r#"{{"admin":"{}","stake_mint":"{}","payment_mint":"{}","reward_mint":null}}"#,
        market.admin, market.stake_mint, market.payment_mint
    );
    std::fs::write(dir.path().join(MARKET_FILE), old)?;
    let err = read_market(dir.path())
        .err()
        .ok_or("an old ledger was read")?;
    assert_eq!(
        err.to_string(),
        format!(
            "{} holds accounts in layout 1, and this gpu-market reads layout {ACCOUNT_LAYOUT}: \
             start the localnet with --reset to begin a new ledger",
            dir.path().display()
        )
    );
    Ok(())
}
