//! Another application embedding petition-vault: open (or create) a vault, unlock as a role,
//! write a record, read it back through the same audited gate the CLI uses.
//!
//! Run: `cargo run --release --example embed -- /tmp/embed-vault`
//! (uses the real Argon2id parameters: each unlock takes about a tenth of a second).

use petition_vault::{
    Channel, NewCase, NewPetitioner, Passphrase, Role, SecretText, Vault, VaultError, VaultOptions,
};
use std::path::PathBuf;

fn main() -> Result<(), VaultError> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "./embed-vault".into()),
    );
    // In a real application the passphrases come from the officer, never from source code.
    let admin_pass = Passphrase::from("example admin passphrase");
    let registrar_pass = Passphrase::from("example registrar passphrase");
    let analyst_pass = Passphrase::from("example analyst passphrase");

    let vault = if dir.join("db").exists() {
        Vault::open(&dir, VaultOptions::default())?
    } else {
        // The audit key goes to the compliance officer; the vault does not keep it.
        let (vault, audit_key) =
            Vault::create(&dir, "admin", &admin_pass, VaultOptions::default())?;
        println!(
            "audit key for the compliance officer (hand it over; the vault does not keep it):\n{}",
            audit_key.to_text().as_str()
        );
        let admin = vault.unlock("admin", &admin_pass)?;
        admin.add_user(
            "registrar",
            Role::Registrar,
            Some("信访局"),
            &registrar_pass,
        )?;
        admin.add_user("analyst", Role::Analyst, Some("信访局"), &analyst_pass)?;
        vault
    };

    // A registrar writes a petitioner and a case. Validation happens in the library.
    let registrar = vault.unlock("registrar", &registrar_pass)?;
    let petitioner = registrar.add_petitioner(&NewPetitioner {
        name: SecretText::from("张三"),
        id_number: SecretText::from("11010519491231002X"),
        phones: vec![SecretText::from("138 1234 5678")],
        address: Some(SecretText::from("北京市朝阳区建国路88号")),
        email: None,
        ethnicity: Some(SecretText::from("汉族")),
    })?;
    let case = registrar.open_case(&NewCase {
        petitioners: vec![petitioner],
        title: SecretText::from("关于小区供暖不达标的反映"),
        category: "城乡建设".into(),
        channel: Channel::Online,
        content: SecretText::from("我叫张三，电话13812345678。小区冬季室温长期低于16度。"),
        demands: Some(SecretText::from("请求督促供暖公司整改")),
        accused_unit: None,
        is_accusation: false,
    })?;

    // Reading is audited before anything is decrypted.
    let view = registrar.show_petitioner(petitioner, None)?;
    for field in &view.fields {
        println!("registrar sees {:<12} {}", field.name, field.value.expose());
    }

    // The analyst's keyring holds only `masked` and `meta`: it gets masked renderings.
    let analyst = vault.unlock("analyst", &analyst_pass)?;
    let view = analyst.show_case(case)?;
    for field in &view.fields {
        println!("analyst sees   {:<12} {}", field.name, field.value.expose());
    }
    println!("withheld from the analyst: {:?}", view.withheld);

    let report = vault.verify_audit(None, &[])?;
    println!("access log intact: {} entries", report.entries);
    Ok(())
}
