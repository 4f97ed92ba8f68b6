//! The widget's size as browsers download it: `widget.js` (styles and
//! sounds included) gzipped at the highest level, against its 30 KB budget
//! (a unit test of the gateway fails the build over it).

use std::io::Write as _;

const WIDGET: &str = "services/gateway/static/widget/widget.js";
const BUDGET_BYTES: usize = 30 * 1024;

pub fn measure() -> anyhow::Result<String> {
    let source = std::fs::read(WIDGET)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&source)?;
    let gzipped = gz.finish()?.len();
    Ok(format!(
        "### The widget's size\n\n\
         | file | bytes | gzipped | budget (gzipped) | share of the budget |\n\
         |---|---|---|---|---|\n\
         | `widget.js` | {} | {} | {} | {:.0}% |\n",
        source.len(),
        gzipped,
        BUDGET_BYTES,
        gzipped as f64 * 100.0 / BUDGET_BYTES as f64
    ))
}
