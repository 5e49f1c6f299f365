//! A zero-latency chat endpoint on 127.0.0.1 for scripted benchmarks: prints its base URL, then
//! answers every request with a short streamed reply until killed.

fn main() {
    let base =
        weft_testkit::serve_forever(&weft_testkit::chat_stream(&["Weft ", "runs ", "flows."]));
    println!("{base}");
    loop {
        std::thread::park();
    }
}
