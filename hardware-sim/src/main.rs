//! calin-sim: a simulated CalinMeter meter. Skeleton until the DLMS issue fills it.

fn main() {
    eprintln!("calin-sim: the simulator is not built yet (see the DLMS issue)");
    std::process::exit(69);
}
