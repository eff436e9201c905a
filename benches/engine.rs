//! Criterion benches: building the engine, and answering questions of every kind.

use std::hint::black_box;
use std::sync::LazyLock;

use criterion::{Criterion, criterion_group, criterion_main};
use lawbot::Engine;

static ENGINE: LazyLock<Engine> = LazyLock::new(|| Engine::builtin().unwrap());

const QUESTIONS: &[(&str, &str)] = &[
    ("scenario", "@律规助手 法官老婆请我吃饭，我能去吗"),
    (
        "long",
        "各位好请教下，我在区法院有个执行案子，承办的是执行局王法官，人挺好的。今天听说他父亲去世了，我想去吊唁顺便包个白包，这样有问题吗",
    ),
    ("lookup", "第十二条第十八项是什么"),
    ("not_covered", "民事案件上诉期是15天还是30天来着"),
    (
        "english",
        "Can I invite the judge handling my case out for dinner this weekend?",
    ),
];

fn build(c: &mut Criterion) {
    c.bench_function("build engine (dictionary + lexicon)", |b| {
        b.iter(|| black_box(Engine::builtin().unwrap()))
    });
}

fn answer(c: &mut Criterion) {
    let engine = &*ENGINE;
    let mut group = c.benchmark_group("answer");
    for (name, question) in QUESTIONS {
        group.bench_function(*name, |b| {
            b.iter(|| black_box(engine.answer(black_box(question))))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = answer, build
}
criterion_main!(benches);
