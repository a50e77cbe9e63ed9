//! The published RFC 6962 / RFC 9162 reference vectors (the 8-leaf tree of Certificate Transparency's reference implementations): tree heads, inclusion and consistency proofs.

use esito_log::{
    consistency_proof, empty_root, inclusion_proof, leaf_hash, root, verify_consistency,
    verify_inclusion, Frontier, Hash, ProofError,
};

/// The leaf data: "", 0x00, 0x10, 0x2021, 0x3031, 0x40414243, 0x5051525354555657,
/// 0x606162636465666768696a6b6c6d6e6f.
const LEAF_DATA: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

/// The published tree heads for sizes 1 to 8.
const ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// The published inclusion proofs: (leaf index, tree size, audit path).
const INCLUSION_PROOFS: [(u64, u64, &[&str]); 5] = [
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (0, 1, &[]),
];

/// The published consistency proofs: (first size, second size, consistency path).
const CONSISTENCY_PROOFS: [(u64, u64, &[&str]); 5] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
];

fn hash(text: &str) -> Hash {
    text.parse().expect("a published vector is a valid hash")
}

fn hashes(texts: &[&str]) -> Vec<Hash> {
    texts.iter().map(|text| hash(text)).collect()
}

fn leaves() -> Vec<Hash> {
    LEAF_DATA
        .iter()
        .map(|data| {
            let bytes: Vec<u8> = (0..data.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&data[i..i + 2], 16).expect("hex leaf data"))
                .collect();
            leaf_hash(&bytes)
        })
        .collect()
}

fn tree_head(size: u64) -> Hash {
    if size == 0 {
        empty_root()
    } else {
        hash(ROOTS[size as usize - 1])
    }
}

#[test]
fn the_tree_heads_of_sizes_one_to_eight_are_the_published_ones() {
    let leaves = leaves();
    for size in 1..=8 {
        assert_eq!(root(&leaves[..size]), hash(ROOTS[size - 1]), "size {size}");
    }
}

#[test]
fn the_frontier_reaches_the_published_tree_heads() {
    let mut frontier = Frontier::new();
    for (size, leaf) in leaves().into_iter().enumerate() {
        frontier.push(leaf);
        assert_eq!(frontier.root(), hash(ROOTS[size]), "size {}", size + 1);
    }
}

#[test]
fn the_inclusion_proofs_built_are_the_published_ones_and_verify() {
    let leaves = leaves();
    for (index, size, expected) in INCLUSION_PROOFS {
        let path = inclusion_proof(index, size, &leaves[..]).expect("a valid request");
        assert_eq!(path, hashes(expected), "leaf {index} of {size}");
        assert_eq!(
            verify_inclusion(
                &leaves[index as usize],
                index,
                size,
                &path,
                &tree_head(size)
            ),
            Ok(()),
            "leaf {index} of {size}"
        );
    }
}

#[test]
fn the_consistency_proofs_built_are_the_published_ones_and_verify() {
    let leaves = leaves();
    for (first, second, expected) in CONSISTENCY_PROOFS {
        let path = consistency_proof(first, second, &leaves[..]).expect("a valid request");
        assert_eq!(path, hashes(expected), "{first} to {second}");
        assert_eq!(
            verify_consistency(first, second, &tree_head(first), &tree_head(second), &path),
            Ok(()),
            "{first} to {second}"
        );
    }
}

/// Variations on a good inclusion proof that must all fail, after the probes of the reference
/// implementation's tests.
fn corrupted_inclusion_probes(
    index: u64,
    size: u64,
    path: &[Hash],
) -> Vec<(String, u64, u64, Vec<Hash>, Hash, Hash)> {
    let leaf = leaves()[index as usize];
    let head = tree_head(size);
    let some_hash = hash("abacaba000000000000000000000000000000000000000000060061e00123456");
    let mut probes = vec![
        (
            "index - 1".to_owned(),
            index.wrapping_sub(1),
            size,
            path.to_vec(),
            head,
            leaf,
        ),
        (
            "index + 1".to_owned(),
            index + 1,
            size,
            path.to_vec(),
            head,
            leaf,
        ),
        (
            "index ^ 2".to_owned(),
            index ^ 2,
            size,
            path.to_vec(),
            head,
            leaf,
        ),
        (
            "size * 2".to_owned(),
            index,
            size * 2,
            path.to_vec(),
            head,
            leaf,
        ),
        (
            "size / 2".to_owned(),
            index,
            size / 2,
            path.to_vec(),
            head,
            leaf,
        ),
        (
            "wrong leaf".to_owned(),
            index,
            size,
            path.to_vec(),
            head,
            leaf_hash(b"WrongLeaf"),
        ),
        (
            "empty root".to_owned(),
            index,
            size,
            path.to_vec(),
            empty_root(),
            leaf,
        ),
        (
            "random root".to_owned(),
            index,
            size,
            path.to_vec(),
            some_hash,
            leaf,
        ),
        (
            "trailing root".to_owned(),
            index,
            size,
            [path, &[head]].concat(),
            head,
            leaf,
        ),
        (
            "preceding root".to_owned(),
            index,
            size,
            [&[head], path].concat(),
            head,
            leaf,
        ),
    ];
    for i in 0..path.len() {
        let mut changed = path.to_vec();
        let mut bytes = *changed[i].as_bytes();
        bytes[0] ^= 8;
        changed[i] = Hash::from_bytes(bytes);
        probes.push((
            format!("path[{i}] bit 3 flipped"),
            index,
            size,
            changed,
            head,
            leaf,
        ));
    }
    if let Some((_, shorter)) = path.split_last() {
        probes.push((
            "last hash removed".to_owned(),
            index,
            size,
            shorter.to_vec(),
            head,
            leaf,
        ));
    }
    if path.len() > 1 {
        let inserted = [&path[..1], &[some_hash], &path[1..]].concat();
        probes.push((
            "hash inserted".to_owned(),
            index,
            size,
            inserted,
            head,
            leaf,
        ));
    }
    probes
}

#[test]
fn every_corruption_of_a_published_inclusion_proof_fails() {
    for (index, size, expected) in INCLUSION_PROOFS {
        let path = hashes(expected);
        for (what, probe_index, probe_size, probe_path, head, leaf) in
            corrupted_inclusion_probes(index, size, &path)
        {
            assert!(
                verify_inclusion(&leaf, probe_index, probe_size, &probe_path, &head).is_err(),
                "leaf {index} of {size}: {what} verified"
            );
        }
    }
}

#[test]
fn every_corruption_of_a_published_consistency_proof_fails() {
    let some_hash = hash("abacaba000000000000000000000000000000000000000000060061e00123456");
    for (first, second, expected) in CONSISTENCY_PROOFS {
        let path = hashes(expected);
        if path.is_empty() {
            continue;
        }
        let (r1, r2) = (tree_head(first), tree_head(second));
        let mut probes: Vec<(String, u64, u64, Hash, Hash, Vec<Hash>)> = vec![
            ("first - 1".into(), first - 1, second, r1, r2, path.clone()),
            ("first + 1".into(), first + 1, second, r1, r2, path.clone()),
            ("first ^ 2".into(), first ^ 2, second, r1, r2, path.clone()),
            ("second * 2".into(), first, second * 2, r1, r2, path.clone()),
            ("second / 2".into(), first, second / 2, r1, r2, path.clone()),
            (
                "wrong first root".into(),
                first,
                second,
                some_hash,
                r2,
                path.clone(),
            ),
            (
                "wrong second root".into(),
                first,
                second,
                r1,
                some_hash,
                path.clone(),
            ),
            ("swapped roots".into(), first, second, r2, r1, path.clone()),
            ("empty path".into(), first, second, r1, r2, Vec::new()),
            (
                "trailing first root".into(),
                first,
                second,
                r1,
                r2,
                [&path[..], &[r1]].concat(),
            ),
            (
                "trailing second root".into(),
                first,
                second,
                r1,
                r2,
                [&path[..], &[r2]].concat(),
            ),
            (
                "preceding first root".into(),
                first,
                second,
                r1,
                r2,
                [&[r1], &path[..]].concat(),
            ),
            (
                "preceding second root".into(),
                first,
                second,
                r1,
                r2,
                [&[r2], &path[..]].concat(),
            ),
            (
                "preceding path[0]".into(),
                first,
                second,
                r1,
                r2,
                [&path[..1], &path[..]].concat(),
            ),
            (
                "truncated".into(),
                first,
                second,
                r1,
                r2,
                path[..path.len() - 1].to_vec(),
            ),
        ];
        for i in 0..path.len() {
            let mut changed = path.clone();
            let mut bytes = *changed[i].as_bytes();
            bytes[0] ^= 16;
            changed[i] = Hash::from_bytes(bytes);
            probes.push((
                format!("path[{i}] bit 4 flipped"),
                first,
                second,
                r1,
                r2,
                changed,
            ));
        }
        for (what, p_first, p_second, p_r1, p_r2, p_path) in probes {
            assert!(
                verify_consistency(p_first, p_second, &p_r1, &p_r2, &p_path).is_err(),
                "{first} to {second}: {what} verified"
            );
        }
    }
}

#[test]
fn the_trivial_consistency_cases_behave_as_the_reference_does() {
    let (r1, r2) = (tree_head(1), tree_head(2));
    let empty = empty_root();
    assert_eq!(verify_consistency(0, 0, &empty, &empty, &[]), Ok(()));
    assert_eq!(verify_consistency(0, 1, &empty, &r1, &[]), Ok(()));
    assert_eq!(verify_consistency(1, 1, &r2, &r2, &[]), Ok(()));
    assert_eq!(
        verify_consistency(1, 1, &r1, &r2, &[]),
        Err(ProofError::SecondRootMismatch)
    );
    assert_eq!(
        verify_consistency(1, 0, &r1, &r2, &[]),
        Err(ProofError::FirstBeyondSecond {
            first: 1,
            second: 0
        })
    );
    assert_eq!(
        verify_consistency(1, 2, &r1, &r2, &[]),
        Err(ProofError::EmptyConsistencyPath)
    );
    assert_eq!(
        verify_consistency(0, 1, &empty, &r1, &[empty]),
        Err(ProofError::PathNotEmpty {
            first: 0,
            second: 1
        })
    );
}
