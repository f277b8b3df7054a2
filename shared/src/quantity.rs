//! Kubernetes resource quantities (`500m`, `2`, `1.5`, `128Mi`, `10Gi`, `1e3`, `100k`): parsed to
//! base units (cores, bytes) and formatted back as the API server prints them.

/// Parses a quantity to its value in base units (cores for cpu, bytes for memory).
pub fn parse(q: &str) -> Option<f64> {
    let q = q.trim();
    if q.is_empty() {
        return None;
    }
    const SUFFIXES: &[(&str, f64)] = &[
        ("Ki", 1024.0),
        ("Mi", 1_048_576.0),
        ("Gi", 1_073_741_824.0),
        ("Ti", 1_099_511_627_776.0),
        ("Pi", 1_125_899_906_842_624.0),
        ("Ei", 1_152_921_504_606_846_976.0),
        // apimachinery pkg/api/resource/suffix.go: the whole decimal SI set, n and u included
        // (a quota message may say `requests.cpu=500u`).
        ("n", 1e-9),
        ("u", 1e-6),
        ("m", 0.001),
        ("k", 1e3),
        ("M", 1e6),
        ("G", 1e9),
        ("T", 1e12),
        ("P", 1e15),
        ("E", 1e18),
    ];
    for (suffix, factor) in SUFFIXES {
        if let Some(num) = q.strip_suffix(suffix) {
            return num.parse::<f64>().ok().map(|n| n * factor);
        }
    }
    q.parse::<f64>().ok()
}

/// Formats a value the way the API server prints it in quota messages.
pub fn format(resource: &str, value: f64) -> String {
    let is_cpu = resource.ends_with("cpu");
    if is_cpu {
        let milli = (value * 1000.0).round() as i64;
        if milli % 1000 == 0 {
            format!("{}", milli / 1000)
        } else {
            format!("{milli}m")
        }
    } else if resource.ends_with("memory") || resource.ends_with("storage") {
        let bytes = value.round() as i64;
        for (suffix, factor) in [
            ("Ti", 1_099_511_627_776i64),
            ("Gi", 1_073_741_824),
            ("Mi", 1_048_576),
            ("Ki", 1024),
        ] {
            if bytes != 0 && bytes % factor == 0 {
                return format!("{}{suffix}", bytes / factor);
            }
        }
        format!("{bytes}")
    } else {
        format!("{}", value.round() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        assert_eq!(parse("500m"), Some(0.5));
        assert_eq!(parse("2"), Some(2.0));
        assert_eq!(parse("1.5"), Some(1.5));
        assert_eq!(parse("128Mi"), Some(134_217_728.0));
        assert_eq!(parse("1e3"), Some(1000.0));
        assert_eq!(parse("10G"), Some(1e10));
        let close = |q: &str, expected: f64| {
            let got = parse(q).unwrap_or(f64::NAN);
            assert!((got - expected).abs() <= expected * 1e-12, "{q}: {got}");
        };
        close("500u", 0.0005);
        close("250n", 250e-9);
        assert_eq!(parse("2E"), Some(2e18));
        assert_eq!(parse("1Ei"), Some(1_152_921_504_606_846_976.0));
        assert_eq!(parse("x"), None);
        assert_eq!(format("requests.cpu", 0.5), "500m");
        assert_eq!(format("requests.cpu", 7.0), "7");
        assert_eq!(format("limits.memory", 2.0 * 1_073_741_824.0), "2Gi");
        assert_eq!(format("pods", 10.0), "10");
    }
}
