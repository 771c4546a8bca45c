//! GPU detection for the provider agent: what NVML reports about the node's NVIDIA GPUs,
//! the [`GpuClass`] a model name belongs to, and the one-model summary a node registers.

use gpu_market_client::registry::GpuClass;
use nvml_wrapper::{error::NvmlError, Nvml};
use provider_registry::constants::MAX_GPU_MODEL_LEN;

/// One GPU as NVML reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DetectedGpu {
    /// NVML device index.
    pub index: u32,
    /// Marketing name, e.g. "NVIDIA H100 80GB HBM3".
    pub name: String,
    /// Device UUID, e.g. "GPU-8c6b6f0e-...".
    pub uuid: String,
    /// Total framebuffer memory in MiB.
    pub vram_mib: u32,
}

/// Why GPUs could not be detected.
#[derive(Debug, thiserror::Error)]
pub enum GpuDetectError {
    /// No NVIDIA driver: the NVML library is missing or the kernel driver is not loaded.
    #[error(
        "NVML not available (no NVIDIA driver found: libnvidia-ml.so could not be loaded); \
         pass the GPU specs on the command line: --gpu-model, --gpus, --vram ({0})"
    )]
    NotAvailable(NvmlError),
    /// The driver is present but reports no GPU.
    #[error(
        "the NVIDIA driver reports no GPU; pass the GPU specs on the command line: \
         --gpu-model, --gpus, --vram"
    )]
    NoDevices,
    /// NVML is present but a query failed.
    #[error("NVML {context}: {source}")]
    Nvml {
        /// The query that failed.
        context: String,
        /// NVML's error.
        #[source]
        source: NvmlError,
    },
}

/// Lists the node's NVIDIA GPUs through NVML. A successful result is never empty.
pub fn detect() -> Result<Vec<DetectedGpu>, GpuDetectError> {
    let nvml = Nvml::init().map_err(|e| match e {
        NvmlError::LibloadingError(_)
        | NvmlError::FailedToLoadSymbol(_)
        | NvmlError::LibraryNotFound
        | NvmlError::DriverNotLoaded => GpuDetectError::NotAvailable(e),
        source => GpuDetectError::Nvml {
            context: "initialisation failed".into(),
            source,
        },
    })?;
    let query = |context: String| move |source| GpuDetectError::Nvml { context, source };
    let count = nvml
        .device_count()
        .map_err(query("device count failed".into()))?;
    if count == 0 {
        return Err(GpuDetectError::NoDevices);
    }
    (0..count)
        .map(|index| {
            let device = nvml
                .device_by_index(index)
                .map_err(query(format!("device {index} could not be opened")))?;
            let name = device
                .name()
                .map_err(query(format!("name of device {index} failed")))?;
            let uuid = device
                .uuid()
                .map_err(query(format!("uuid of device {index} failed")))?;
            let total = device
                .memory_info()
                .map_err(query(format!("memory of device {index} failed")))?
                .total;
            Ok(DetectedGpu {
                index,
                name,
                uuid,
                vram_mib: u32::try_from(total / (1024 * 1024)).unwrap_or(u32::MAX),
            })
        })
        .collect()
}

/// Data-centre parts, matched as whole tokens so "A100" does not match "RTX A1000" and
/// "L4" does not match "L40".
const DATACENTER_MODELS: &[&str] = &[
    "A2", "A10", "A10G", "A10M", "A16", "A30", "A40", "A100", "A800", "H20", "H100", "H200",
    "H800", "GH200", "B100", "B200", "B300", "GB200", "GB300", "L4", "L20", "T4", "V100", "V100S",
    "P4", "P40", "P100", "K80",
];

/// Workstation parts that carry no "RTX"/"Quadro" marker in their NVML name.
const WORKSTATION_MODELS: &[&str] = &["L40", "L40S", "L40G"];

/// The tier of a GPU model name as NVML or an operator spells it ("NVIDIA GeForce RTX 4090",
/// "Tesla V100-SXM2-16GB", "RTX A6000"). Names it does not recognise are classed
/// [`GpuClass::Consumer`], so an unknown card never claims a tier it may not have.
pub fn classify(name: &str) -> GpuClass {
    let upper = name.to_ascii_uppercase();
    let tokens: Vec<&str> = upper
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .collect();
    let has = |token: &str| tokens.contains(&token);
    // The token after "RTX" separates the families: "PRO 6000" and "A6000" are
    // workstation cards, "4090" is a gaming card, "6000" alone is a Quadro-line card.
    let after_rtx = tokens
        .iter()
        .position(|t| *t == "RTX")
        .and_then(|i| tokens.get(i + 1))
        .copied();

    if has("GEFORCE") || has("GTX") || has("TITAN") {
        return GpuClass::Consumer;
    }
    if has("QUADRO")
        || has("ADA")
        || tokens.iter().any(|t| WORKSTATION_MODELS.contains(t))
        || tokens.iter().any(|t| is_turing_workstation(t))
    {
        return GpuClass::Workstation;
    }
    if let Some(next) = after_rtx {
        if next == "PRO" || is_model_number(next, "A") || next.ends_with("00") {
            return GpuClass::Workstation;
        }
        return GpuClass::Consumer;
    }
    if has("TESLA")
        || has("INSTINCT")
        || tokens.iter().any(|t| DATACENTER_MODELS.contains(t))
        || tokens.iter().any(|t| is_model_number(t, "MI"))
    {
        return GpuClass::Datacenter;
    }
    GpuClass::Consumer
}

/// `token` is `prefix` followed by a model number, e.g. "A6000" for "A", "MI300X" for "MI".
fn is_model_number(token: &str, prefix: &str) -> bool {
    token
        .strip_prefix(prefix)
        .and_then(|rest| rest.chars().next())
        .is_some_and(|c| c.is_ascii_digit())
}

/// The Turing workstation cards T400, T600, T1000, T1200, which share a letter with the T4.
fn is_turing_workstation(token: &str) -> bool {
    token
        .strip_prefix('T')
        .is_some_and(|n| n.len() >= 3 && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The hardware line a node registers: one model, how many of it, and its memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSummary {
    /// Model name, at most [`MAX_GPU_MODEL_LEN`] bytes.
    pub gpu_model: String,
    /// Tier of that model.
    pub gpu_class: GpuClass,
    /// How many GPUs of that model the node has.
    pub gpu_count: u16,
    /// The smallest memory among them, in MiB.
    pub vram_mib: u32,
}

/// Summarises `gpus` as one model, since a node registers a single GPU model: the most
/// common one (on a tie, the one with the lowest index), counting only GPUs of that model and
/// reporting the smallest memory among them so the node never over-promises. `None` when
/// `gpus` is empty.
pub fn summarise(gpus: &[DetectedGpu]) -> Option<NodeSummary> {
    let mut by_model: Vec<(&str, Vec<&DetectedGpu>)> = Vec::new();
    for gpu in gpus {
        match by_model.iter_mut().find(|(name, _)| *name == gpu.name) {
            Some((_, members)) => members.push(gpu),
            None => by_model.push((&gpu.name, vec![gpu])),
        }
    }
    // `max_by_key` keeps the last maximum; reversing makes the first-seen model win ties.
    let (name, members) = by_model
        .into_iter()
        .rev()
        .max_by_key(|(_, members)| members.len())?;
    Some(NodeSummary {
        gpu_model: fit_model_name(name),
        gpu_class: classify(name),
        gpu_count: u16::try_from(members.len()).unwrap_or(u16::MAX),
        vram_mib: members.iter().map(|g| g.vram_mib).min()?,
    })
}

/// Shortens `name` to what the registry accepts: newer names such as "NVIDIA RTX PRO 6000
/// Blackwell Workstation Edition" exceed [`MAX_GPU_MODEL_LEN`], and registration would
/// reject them. The vendor prefix goes first, then whole trailing words.
fn fit_model_name(name: &str) -> String {
    let name = name.trim();
    if name.len() <= MAX_GPU_MODEL_LEN {
        return name.to_owned();
    }
    let name = name.strip_prefix("NVIDIA ").unwrap_or(name);
    let mut fitted = String::new();
    for word in name.split_whitespace() {
        let len = fitted.len() + usize::from(!fitted.is_empty()) + word.len();
        if len > MAX_GPU_MODEL_LEN {
            break;
        }
        if !fitted.is_empty() {
            fitted.push(' ');
        }
        fitted.push_str(word);
    }
    if fitted.is_empty() {
        // A single word longer than the limit: cut it at a character boundary.
        fitted = name
            .char_indices()
            .take_while(|(i, c)| i + c.len_utf8() <= MAX_GPU_MODEL_LEN)
            .map(|(_, c)| c)
            .collect();
    }
    fitted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_real_names() {
        use GpuClass::*;
        let table = [
            ("NVIDIA H100 80GB HBM3", Datacenter),
            ("NVIDIA H200", Datacenter),
            ("NVIDIA A100-SXM4-80GB", Datacenter),
            ("NVIDIA A100 80GB PCIe", Datacenter),
            ("NVIDIA B200", Datacenter),
            ("NVIDIA GH200 480GB", Datacenter),
            ("NVIDIA L4", Datacenter),
            ("Tesla T4", Datacenter),
            ("Tesla V100-SXM2-16GB", Datacenter),
            ("NVIDIA A10G", Datacenter),
            ("NVIDIA A10", Datacenter),
            ("NVIDIA A30", Datacenter),
            ("NVIDIA A40", Datacenter),
            ("AMD Instinct MI300X", Datacenter),
            ("MI250X", Datacenter),
            ("NVIDIA RTX A6000", Workstation),
            ("NVIDIA RTX A1000", Workstation),
            ("NVIDIA RTX A2000 12GB", Workstation),
            ("NVIDIA RTX 6000 Ada Generation", Workstation),
            ("NVIDIA RTX 4000 SFF Ada Generation", Workstation),
            ("NVIDIA L40S", Workstation),
            ("NVIDIA L40", Workstation),
            ("Quadro RTX 8000", Workstation),
            ("Quadro P4000", Workstation),
            ("NVIDIA T1000 8GB", Workstation),
            (
                "NVIDIA RTX PRO 6000 Blackwell Workstation Edition",
                Workstation,
            ),
            ("NVIDIA GeForce RTX 4090", Consumer),
            ("NVIDIA GeForce RTX 5090", Consumer),
            ("NVIDIA GeForce RTX 3090 Ti", Consumer),
            ("NVIDIA GeForce GTX 1080 Ti", Consumer),
            ("RTX 4090", Consumer),
            ("NVIDIA TITAN RTX", Consumer),
            ("Some Future Card", Consumer),
        ];
        for (name, expected) in table {
            assert_eq!(classify(name), expected, "{name}");
        }
    }

    fn gpu(index: u32, name: &str, vram_mib: u32) -> DetectedGpu {
        DetectedGpu {
            index,
            name: name.into(),
            uuid: format!("GPU-{index}"),
            vram_mib,
        }
    }

    #[test]
    fn summarise_counts_the_most_common_model_only() {
        let gpus = [
            gpu(0, "NVIDIA GeForce RTX 4090", 24_564),
            gpu(1, "NVIDIA H100 80GB HBM3", 81_559),
            gpu(2, "NVIDIA H100 80GB HBM3", 81_000),
            gpu(3, "NVIDIA H100 80GB HBM3", 81_559),
        ];
        assert_eq!(
            summarise(&gpus),
            Some(NodeSummary {
                gpu_model: "NVIDIA H100 80GB HBM3".into(),
                gpu_class: GpuClass::Datacenter,
                gpu_count: 3,
                vram_mib: 81_000,
            })
        );
    }

    #[test]
    fn summarise_breaks_ties_by_lowest_index() {
        let gpus = [
            gpu(0, "NVIDIA RTX A6000", 49_140),
            gpu(1, "NVIDIA GeForce RTX 4090", 24_564),
        ];
        let summary = summarise(&gpus).unwrap();
        assert_eq!(summary.gpu_model, "NVIDIA RTX A6000");
        assert_eq!(summary.gpu_class, GpuClass::Workstation);
        assert_eq!(summary.gpu_count, 1);
    }

    #[test]
    fn summarise_of_nothing_is_none() {
        assert_eq!(summarise(&[]), None);
    }

    #[test]
    fn summarise_fits_long_names_into_the_registry() {
        let long = "NVIDIA RTX PRO 6000 Blackwell Workstation Edition";
        let summary = summarise(&[gpu(0, long, 97_887)]).unwrap();
        assert_eq!(summary.gpu_model, "RTX PRO 6000 Blackwell");
        assert!(summary.gpu_model.len() <= MAX_GPU_MODEL_LEN);
        assert_eq!(summary.gpu_class, GpuClass::Workstation);
    }

    #[test]
    fn detect_lists_gpus_or_says_the_driver_is_missing() {
        match detect() {
            Ok(gpus) => {
                assert!(!gpus.is_empty());
                assert!(gpus.iter().all(|g| !g.name.is_empty() && g.vram_mib > 0));
            }
            Err(e @ GpuDetectError::NotAvailable(_)) => {
                assert!(e.to_string().contains("--gpu-model"), "{e}");
            }
            Err(e) => panic!("unexpected detection error: {e}"),
        }
    }
}
