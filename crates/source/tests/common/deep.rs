//! A hostile archive generator shared by the tests and the bench: `chains`
//! chains of `depth` nested folders, each level its own tar member (GNU long
//! names once they pass 100 bytes), with one file at the bottom of each.

/// The `.tar` bytes.
pub fn deep_tar(chains: usize, depth: usize) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for c in 0..chains {
        let mut path = format!("c{c}");
        for _ in 0..depth {
            path.push_str("/d");
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Directory);
            h.set_size(0);
            h.set_mode(0o755);
            b.append_data(&mut h, format!("{path}/"), std::io::empty())
                .expect("append a folder");
        }
        let data = b"bottom\n";
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, format!("{path}/f.txt"), &data[..])
            .expect("append a file");
    }
    b.into_inner().expect("finish the archive")
}
