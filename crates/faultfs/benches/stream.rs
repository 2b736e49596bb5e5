//! Streams 100 MB through `PhysicalFs` and through `std::fs::File` +
//! `BufWriter` directly, in 128-byte writes (about one trace event each).

use std::fs::File;
use std::hint::black_box;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use faultfs::{FileSystem, PhysicalFs, BUFFER_CAPACITY};

const TOTAL: usize = 100 * 1024 * 1024;
const CHUNK: [u8; 128] = [b'x'; 128];

fn stream(out: &mut dyn Write) {
    for _ in 0..TOTAL / CHUNK.len() {
        out.write_all(black_box(&CHUNK)).unwrap();
    }
    out.flush().unwrap();
}

fn through_physical_fs(path: &Path) {
    let mut file = PhysicalFs::new().create_new(path).unwrap();
    stream(&mut file);
    drop(file);
    std::fs::remove_file(path).unwrap();
}

fn through_std(path: &Path, capacity: usize) {
    let mut file = BufWriter::with_capacity(capacity, File::create_new(path).unwrap());
    stream(&mut file);
    drop(file);
    std::fs::remove_file(path).unwrap();
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("stream.bin");
    let mut group = c.benchmark_group("stream_100MB");
    group
        .throughput(Throughput::Bytes(TOTAL as u64))
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(10));
    group.bench_function("PhysicalFs", |b| b.iter(|| through_physical_fs(&path)));
    group.bench_function("std BufWriter 64KiB", |b| {
        b.iter(|| through_std(&path, BUFFER_CAPACITY))
    });
    group.bench_function("std BufWriter default", |b| {
        b.iter(|| through_std(&path, 8 * 1024))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
