//! Choosing where tensors live.

use tch::Device;
use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum DeviceError {
    #[error("unknown device '{0}': use 'cpu' or 'cuda' (or 'cuda:N' for GPU N)")]
    Unknown(String),
    #[error("device '{0}' was asked for but libtorch finds no CUDA GPU here; use --device cpu")]
    CudaUnavailable(String),
    #[error("device '{name}' does not exist: libtorch sees {count} CUDA GPU(s), numbered from 0")]
    NoSuchGpu { name: String, count: usize },
}

/// Parses `cpu`, `cuda` or `cuda:N`, checking that the GPU exists.
pub fn parse_device(name: &str) -> Result<Device, DeviceError> {
    let index = match name {
        "cpu" => return Ok(Device::Cpu),
        "cuda" => 0,
        _ => match name.strip_prefix("cuda:").map(str::parse::<usize>) {
            Some(Ok(index)) => index,
            _ => return Err(DeviceError::Unknown(name.to_owned())),
        },
    };
    if !tch::Cuda::is_available() {
        return Err(DeviceError::CudaUnavailable(name.to_owned()));
    }
    let count = tch::Cuda::device_count() as usize;
    if index >= count {
        return Err(DeviceError::NoSuchGpu { name: name.to_owned(), count });
    }
    Ok(Device::Cuda(index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_cpu_and_rejects_nonsense() {
        assert_eq!(parse_device("cpu"), Ok(Device::Cpu));
        assert_eq!(parse_device("gpu"), Err(DeviceError::Unknown("gpu".into())));
        assert_eq!(parse_device("cuda:x"), Err(DeviceError::Unknown("cuda:x".into())));
    }

    #[test]
    fn cuda_is_accepted_exactly_when_libtorch_sees_a_gpu() {
        match parse_device("cuda") {
            Ok(device) => assert_eq!(device, Device::Cuda(0)),
            Err(e) => {
                assert!(!tch::Cuda::is_available());
                assert_eq!(e, DeviceError::CudaUnavailable("cuda".into()));
            }
        }
    }

    #[test]
    fn libtorch_loads_and_computes() {
        // Fails at load time, before any assertion, if the rpath is missing.
        let a = tch::Tensor::from_slice(&[1.0f64, 2.0, 3.0]);
        assert_eq!(a.dot(&a).double_value(&[]), 14.0);
    }
}
