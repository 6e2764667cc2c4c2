//! An ONNX file as written, before tract analyses it: its declared inputs and outputs, the ops
//! it uses (and those tract does not implement), its parameter count. What `minnow
//! teacher-info` prints, and what [`super::teacher`] checks before loading.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use tract_onnx::pb::tensor_shape_proto::dimension::Value as DimValue;
use tract_onnx::pb::type_proto::Value as TypeValue;
use tract_onnx::pb::{ModelProto, ValueInfoProto};
use tract_onnx::prelude::Framework;

use super::error::OnnxError;

/// ONNX's `TensorProto.DataType` of 32-bit floats.
pub const FLOAT: i32 = 1;

/// One axis of a declared shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    Fixed(usize),
    /// A named free size (`batch`, `N`): dynamic.
    Named(String),
    /// Not given: dynamic.
    Unknown,
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Named(name) => f.write_str(name),
            Dim::Unknown => f.write_str("?"),
        }
    }
}

/// A declared input or output: its name, element type (ONNX's number) and shape (`None`: the
/// file gives no shape).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub name: String,
    pub elem_type: i32,
    pub shape: Option<Vec<Dim>>,
}

impl Port {
    fn of(v: &ValueInfoProto) -> Port {
        let tensor = v.r#type.as_ref().and_then(|t| t.value.as_ref());
        let (elem_type, shape) = match tensor {
            Some(TypeValue::TensorType(t)) => (
                t.elem_type,
                t.shape.as_ref().map(|s| {
                    s.dim
                        .iter()
                        .map(|d| match &d.value {
                            Some(DimValue::DimValue(n)) => {
                                usize::try_from(*n).map_or(Dim::Unknown, Dim::Fixed)
                            }
                            Some(DimValue::DimParam(p)) if !p.is_empty() => Dim::Named(p.clone()),
                            _ => Dim::Unknown,
                        })
                        .collect()
                }),
            ),
            None => (0, None),
        };
        Port {
            name: v.name.clone(),
            elem_type,
            shape,
        }
    }

    /// `(batch, 1, 28, 28)`, or `(shape not declared)`.
    pub fn shape_text(&self) -> String {
        match &self.shape {
            Some(dims) => format!(
                "({})",
                dims.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => "(shape not declared)".to_owned(),
        }
    }

    /// The element type's name (`float32`, `int64`, ...).
    pub fn type_name(&self) -> &'static str {
        match self.elem_type {
            FLOAT => "float32",
            2 => "uint8",
            3 => "int8",
            6 => "int32",
            7 => "int64",
            9 => "bool",
            10 => "float16",
            11 => "float64",
            16 => "bfloat16",
            _ => "other",
        }
    }
}

/// What an ONNX file declares.
#[derive(Debug, Clone)]
pub struct OnnxFile {
    pub proto: ModelProto,
    /// Inputs a caller must feed (graph inputs that no initializer gives a value).
    pub inputs: Vec<Port>,
    pub outputs: Vec<Port>,
    /// How many nodes of each op type the main graph has.
    pub op_counts: BTreeMap<String, usize>,
    /// Values in the initializers (weights, biases, constants).
    pub parameters: u64,
    /// `producer_name producer_version`, e.g. `pytorch 2.5.1`.
    pub producer: String,
    pub opset: i64,
}

impl OnnxFile {
    /// Decodes `bytes`, the contents of `path`; refuses what is not an ONNX model.
    pub fn decode(path: &Path, bytes: &[u8]) -> Result<OnnxFile, OnnxError> {
        let not_onnx = |reason: String| OnnxError::NotOnnx {
            path: path.to_owned(),
            reason,
        };
        let proto = tract_onnx::onnx()
            .proto_model_for_read(&mut &bytes[..])
            .map_err(|e| not_onnx(format!("{e:#}")))?;
        // Protobuf decodes many byte strings (an empty file among them) as a message with no
        // fields: a model has an IR version and a graph with nodes.
        let graph = proto
            .graph
            .as_ref()
            .filter(|g| !g.node.is_empty())
            .ok_or_else(|| not_onnx("it holds no graph of operators".to_owned()))?;
        if proto.ir_version <= 0 {
            return Err(not_onnx("it declares no IR version".to_owned()));
        }
        let initialized: std::collections::HashSet<&str> =
            graph.initializer.iter().map(|t| t.name.as_str()).collect();
        let inputs = graph
            .input
            .iter()
            .filter(|i| !initialized.contains(i.name.as_str()))
            .map(Port::of)
            .collect();
        let outputs = graph.output.iter().map(Port::of).collect();
        let mut op_counts = BTreeMap::new();
        for n in &graph.node {
            *op_counts.entry(n.op_type.clone()).or_insert(0) += 1;
        }
        let parameters = graph
            .initializer
            .iter()
            .map(|t| {
                t.dims
                    .iter()
                    .map(|&d| u64::try_from(d).unwrap_or(0))
                    .product::<u64>()
            })
            .sum();
        let producer = format!("{} {}", proto.producer_name, proto.producer_version)
            .trim()
            .to_owned();
        let opset = proto
            .opset_import
            .iter()
            .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
            .map_or(0, |o| o.version);
        Ok(OnnxFile {
            inputs,
            outputs,
            op_counts,
            parameters,
            producer,
            opset,
            proto,
        })
    }

    /// The first node whose op tract does not implement: `(op type, node)`, the node by its
    /// name or, as exporters often leave nodes unnamed, by its first output.
    pub fn unsupported_op(&self) -> Option<(String, String)> {
        let onnx = tract_onnx::onnx();
        let known = &onnx.op_register.0;
        let node = self
            .proto
            .graph
            .as_ref()?
            .node
            .iter()
            .find(|n| !known.contains_key(&n.op_type))?;
        let label = match (node.name.as_str(), node.output.first()) {
            ("", Some(out)) => format!("that outputs `{out}`"),
            (name, _) => format!("`{name}`"),
        };
        Some((node.op_type.clone(), label))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> (std::path::PathBuf, Vec<u8>) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/onnx")
            .join(name);
        let bytes = std::fs::read(&path).expect("fixture");
        (path, bytes)
    }

    #[test]
    fn declared_ports_ops_and_parameters() {
        let (path, bytes) = fixture("mlp.onnx");
        let f = OnnxFile::decode(&path, &bytes).expect("decode");
        assert_eq!(f.inputs.len(), 1);
        assert_eq!(f.inputs[0].shape_text(), "(batch, 64)");
        assert_eq!(f.inputs[0].type_name(), "float32");
        assert_eq!(f.outputs[0].shape_text(), "(batch, 10)");
        assert_eq!(
            f.op_counts,
            BTreeMap::from([("Gemm".to_owned(), 2), ("Relu".to_owned(), 1)])
        );
        // 64x32 + 32 + 32x10 + 10.
        assert_eq!(f.parameters, 2410);
        assert_eq!(f.unsupported_op(), None);
        let (path, bytes) = fixture("cnn.onnx");
        let f = OnnxFile::decode(&path, &bytes).expect("decode");
        assert_eq!(f.inputs[0].shape_text(), "(2, 1, 8, 8)");
    }

    #[test]
    fn names_the_op_tract_lacks() {
        let (path, bytes) = fixture("unsupported.onnx");
        let f = OnnxFile::decode(&path, &bytes).expect("decode");
        assert_eq!(f.unsupported_op().map(|(op, _)| op), Some("Det".to_owned()));
    }

    #[test]
    fn refuses_what_is_not_onnx() {
        for bytes in [&b""[..], b"not a model\n", &[0xff; 64]] {
            let e = OnnxFile::decode(Path::new("x.onnx"), bytes).expect_err("not onnx");
            assert!(e.to_string().starts_with("x.onnx: not an ONNX file"), "{e}");
        }
    }
}
