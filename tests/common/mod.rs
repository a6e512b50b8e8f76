//! Shared helpers for the integration tests: a vault with one user per role.
#![allow(dead_code)]

pub mod backends;

use petition_vault::{
    AuditKey, Channel, NewCase, NewPetitioner, Passphrase, RecordId, Role, SecretText, Session,
    Vault, VaultOptions,
};
use std::path::Path;

pub const ACCUSED_UNIT: &str = "江宁区住房和城乡建设局";

pub fn pass(user: &str) -> Passphrase {
    Passphrase::new(format!("test passphrase for {user}"))
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub vault: Vault,
    pub audit_key: AuditKey,
}

pub const USERS: &[(&str, Role, Option<&str>)] = &[
    ("reg", Role::Registrar, Some("信访局")),
    ("han", Role::Handler, Some("信访局")),
    ("han2", Role::Handler, Some("信访局")),
    ("accused", Role::Handler, Some(ACCUSED_UNIT)),
    ("sup", Role::Supervisor, Some("信访局")),
    ("aud", Role::Auditor, Some("纪委")),
    ("ana", Role::Analyst, Some("信访局")),
];

pub fn vault_dir(f: &Fixture) -> &Path {
    f.dir.path()
}

pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let vdir = dir.path().join("vault");
    let (vault, audit_key) = Vault::create(
        &vdir,
        "admin",
        &pass("admin"),
        VaultOptions::insecure_for_tests(),
    )
    .unwrap();
    {
        let admin = vault.unlock("admin", &pass("admin")).unwrap();
        for (name, role, unit) in USERS {
            admin.add_user(name, *role, *unit, &pass(name)).unwrap();
        }
    }
    Fixture {
        dir,
        vault,
        audit_key,
    }
}

pub fn unlock<'v>(f: &'v Fixture, user: &str) -> Session<'v> {
    f.vault.unlock(user, &pass(user)).unwrap()
}

/// A known petitioner whose values tests search for on disk.
pub struct Person {
    pub name: &'static str,
    pub id_number: &'static str,
    pub phone: &'static str,
    pub address: &'static str,
    pub email: &'static str,
}

pub const PEOPLE: &[Person] = &[
    Person {
        name: "欧阳娜娜",
        id_number: "11010519491231002X",
        phone: "13812345678",
        address: "江苏省南京市江宁区秣陵街道胜太路88号",
        email: "nana.ouyang@example.com",
    },
    Person {
        name: "张伟",
        id_number: "44030519900101123X",
        phone: "13987654321",
        address: "广东省深圳市南山区科技园路1号",
        email: "zw1990@example.com",
    },
];

pub fn new_petitioner(p: &Person) -> NewPetitioner {
    NewPetitioner {
        name: p.name.into(),
        id_number: p.id_number.into(),
        phones: vec![p.phone.into()],
        address: Some(p.address.into()),
        email: Some(p.email.into()),
        ethnicity: Some("汉族".into()),
    }
}

pub const CONTENT: &str =
    "我叫欧阳娜娜，联系电话13812345678。反映秣陵街道拆迁补偿款长期拖欠的问题，请求尽快解决。";

pub fn new_case(pids: Vec<RecordId>, accused: Option<&str>, accusation: bool) -> NewCase {
    NewCase {
        petitioners: pids,
        title: "关于拆迁补偿款未足额发放的反映".into(),
        category: "征地拆迁".into(),
        channel: Channel::Letter,
        content: CONTENT.into(),
        demands: Some(SecretText::from("足额发放补偿款")),
        accused_unit: accused.map(str::to_owned),
        is_accusation: accusation,
    }
}
