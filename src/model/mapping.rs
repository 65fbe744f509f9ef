//! CTranslate2 variable names and shapes mapped to whisper.cpp tensors.
//!
//! The CTranslate2 Transformers converter fuses self-attention as
//! `[query; key; value]` rows in `self_attention/linear_0` and cross-attention
//! keys and values as `[key; value]` in `attention/linear_1`, with zero key
//! biases. whisper.cpp 1.8.3 wants them split and has no key bias, and it
//! ties the output projection to the token embedding.

use super::ct2::Ct2Model;
use super::error::{Error, Result};

/// Model dimensions, in the order of the whisper.cpp file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hparams {
    /// Rows of the token embedding.
    pub n_vocab: usize,
    /// Encoder positions (1500 for 30 s of audio).
    pub n_audio_ctx: usize,
    /// Model width.
    pub n_state: usize,
    /// Encoder attention heads.
    pub n_audio_head: usize,
    /// Encoder layers.
    pub n_audio_layer: usize,
    /// Decoder positions (448).
    pub n_text_ctx: usize,
    /// Decoder attention heads.
    pub n_text_head: usize,
    /// Decoder layers.
    pub n_text_layer: usize,
    /// Mel bands of the input (80).
    pub n_mels: usize,
}

impl Hparams {
    /// Returns the 11 header integers, ending with `ftype`.
    pub fn header(&self, ftype: i32) -> [i32; 11] {
        let dims = [
            self.n_vocab,
            self.n_audio_ctx,
            self.n_state,
            self.n_audio_head,
            self.n_audio_layer,
            self.n_text_ctx,
            self.n_state,
            self.n_text_head,
            self.n_text_layer,
            self.n_mels,
        ];
        let mut header = [ftype; 11];
        for (slot, dim) in header.iter_mut().zip(dims) {
            *slot = dim as i32;
        }
        header
    }

    /// Returns how many tensors whisper.cpp expects: 11 + 15 per encoder
    /// layer + 24 per decoder layer.
    pub fn tensor_count(&self) -> usize {
        11 + 15 * self.n_audio_layer + 24 * self.n_text_layer
    }
}

/// Storage rule of a tensor in the ggml file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Always f32: biases, LayerNorms, positional embeddings.
    F32,
    /// Convolution weights: f16 unless the whole file is f32.
    Conv,
    /// Linear weights and token embedding: the file's weight type.
    Weight,
}

/// One output tensor and where its data comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorPlan {
    /// whisper.cpp tensor name.
    pub name: String,
    /// CTranslate2 variable holding the data.
    pub source: String,
    /// Range of rows (outermost dimension) taken from `source`, if split.
    pub rows: Option<(usize, usize)>,
    /// Output shape in numpy order (outermost first).
    pub shape: Vec<usize>,
    /// Storage type rule.
    pub role: Role,
}

/// Derives the dimensions and validates every variable the mapping reads.
pub fn plan<R: std::io::Read + std::io::Seek>(
    model: &mut Ct2Model<R>,
) -> Result<(Hparams, Vec<TensorPlan>)> {
    check_projection(model)?;
    let hparams = derive_hparams(model)?;
    let plans = build_plans(&hparams);
    for plan in &plans {
        check_source(model, plan, &hparams)?;
    }
    Ok((hparams, plans))
}

fn check_projection<R>(model: &Ct2Model<R>) -> Result<()> {
    if model.variable("decoder/projection/bias").is_some() {
        return Err(Error::BiasedProjection);
    }
    let tied = model.alias_target("decoder/projection/weight") == Some("decoder/embeddings/weight");
    if model.variable("decoder/projection/weight").is_some() || !tied {
        return Err(Error::UntiedProjection);
    }
    Ok(())
}

fn derive_hparams<R: std::io::Read + std::io::Seek>(model: &mut Ct2Model<R>) -> Result<Hparams> {
    let embedding = shape_of(model, "decoder/embeddings/weight", 2)?;
    let conv1 = shape_of(model, "encoder/conv1/weight", 3)?;
    let audio_positions = shape_of(model, "encoder/position_encodings/encodings", 2)?;
    let text_positions = shape_of(model, "decoder/position_encodings/encodings", 2)?;
    let hparams = Hparams {
        n_vocab: embedding[0],
        n_audio_ctx: audio_positions[0],
        n_state: embedding[1],
        n_audio_head: heads(model, "encoder/num_heads")?,
        n_audio_layer: count_layers(model, "encoder")?,
        n_text_ctx: text_positions[0],
        n_text_head: heads(model, "decoder/num_heads")?,
        n_text_layer: count_layers(model, "decoder")?,
        n_mels: conv1[1],
    };
    for heads in [hparams.n_audio_head, hparams.n_text_head] {
        if heads == 0 || hparams.n_state % heads != 0 {
            let reason = format!(
                "{heads} attention heads do not divide model width {}",
                hparams.n_state
            );
            return Err(Error::InvalidModel(reason));
        }
    }
    Ok(hparams)
}

fn shape_of<R: std::io::Read + std::io::Seek>(
    model: &Ct2Model<R>,
    name: &str,
    rank: usize,
) -> Result<Vec<usize>> {
    let shape = model.require(name)?.shape.clone();
    if shape.len() != rank || shape.contains(&0) {
        let reason =
            format!("variable {name} has shape {shape:?}, expected {rank} non-zero dimensions");
        return Err(Error::InvalidModel(reason));
    }
    Ok(shape)
}

fn heads<R: std::io::Read + std::io::Seek>(model: &mut Ct2Model<R>, name: &str) -> Result<usize> {
    let value = model.read_scalar_int(name)?;
    usize::try_from(value).map_err(|_| Error::InvalidModel(format!("{name} is {value}")))
}

/// Counts `PREFIX/layer_N/` indices and checks they run 0..N without gaps.
fn count_layers<R>(model: &Ct2Model<R>, prefix: &str) -> Result<usize> {
    let start = format!("{prefix}/layer_");
    let mut indices: Vec<usize> = model
        .variable_names()
        .filter_map(|name| name.strip_prefix(&start))
        .filter_map(|rest| rest.split('/').next()?.parse().ok())
        .collect();
    indices.sort_unstable();
    indices.dedup();
    let contiguous = indices.iter().enumerate().all(|(i, &index)| i == index);
    if indices.is_empty() || !contiguous {
        return Err(Error::InvalidModel(format!(
            "{prefix} layers are {indices:?}, expected 0..N"
        )));
    }
    Ok(indices.len())
}

fn check_source<R: std::io::Read + std::io::Seek>(
    model: &Ct2Model<R>,
    plan: &TensorPlan,
    hparams: &Hparams,
) -> Result<()> {
    let actual = model.require(&plan.source)?.shape.clone();
    let expected = source_shape(plan, hparams);
    if actual != expected {
        return Err(Error::WrongShape {
            name: plan.source.clone(),
            expected,
            actual,
        });
    }
    Ok(())
}

/// Returns the shape the source variable must have for `plan`.
fn source_shape(plan: &TensorPlan, hparams: &Hparams) -> Vec<usize> {
    let d = hparams.n_state;
    let mut shape = plan.shape.clone();
    if plan.name.ends_with("conv1.bias") || plan.name.ends_with("conv2.bias") {
        shape.truncate(1);
    }
    if plan.rows.is_some() {
        let fused = if plan.source.contains("self_attention") {
            3
        } else {
            2
        };
        shape[0] = fused * d;
    }
    shape
}

/// Builds the full list of whisper.cpp tensors.
fn build_plans(hparams: &Hparams) -> Vec<TensorPlan> {
    let mut plans = Vec::with_capacity(hparams.tensor_count());
    encoder_plans(hparams, &mut plans);
    decoder_plans(hparams, &mut plans);
    plans
}

fn tensor(name: String, source: String, shape: Vec<usize>, role: Role) -> TensorPlan {
    TensorPlan {
        name,
        source,
        rows: None,
        shape,
        role,
    }
}

fn split(
    name: String,
    source: String,
    rows: (usize, usize),
    shape: Vec<usize>,
    role: Role,
) -> TensorPlan {
    TensorPlan {
        name,
        source,
        rows: Some(rows),
        shape,
        role,
    }
}

/// Adds `NAME.weight` and `NAME.bias` for a LayerNorm.
fn layer_norm(plans: &mut Vec<TensorPlan>, name: &str, source: &str, d: usize) {
    plans.push(tensor(
        format!("{name}.weight"),
        format!("{source}/gamma"),
        vec![d],
        Role::F32,
    ));
    plans.push(tensor(
        format!("{name}.bias"),
        format!("{source}/beta"),
        vec![d],
        Role::F32,
    ));
}

/// Adds a linear layer's weight and bias.
fn linear(plans: &mut Vec<TensorPlan>, name: &str, source: &str, out: usize, inp: usize) {
    plans.push(tensor(
        format!("{name}.weight"),
        format!("{source}/weight"),
        vec![out, inp],
        Role::Weight,
    ));
    plans.push(tensor(
        format!("{name}.bias"),
        format!("{source}/bias"),
        vec![out],
        Role::F32,
    ));
}

/// Adds the parts of a fused projection, which `parts` names in fused order.
/// Keys get no bias because whisper.cpp has none.
fn fused(plans: &mut Vec<TensorPlan>, name: &str, source: &str, parts: &[&str], d: usize) {
    for (index, part) in parts.iter().enumerate() {
        let rows = (index * d, (index + 1) * d);
        let weight = (format!("{name}.{part}.weight"), format!("{source}/weight"));
        plans.push(split(weight.0, weight.1, rows, vec![d, d], Role::Weight));
        if *part != "key" {
            let bias = (format!("{name}.{part}.bias"), format!("{source}/bias"));
            plans.push(split(bias.0, bias.1, rows, vec![d], Role::F32));
        }
    }
}

fn mlp(plans: &mut Vec<TensorPlan>, block: &str, source: &str, d: usize) {
    layer_norm(
        plans,
        &format!("{block}.mlp_ln"),
        &format!("{source}/ffn/layer_norm"),
        d,
    );
    linear(
        plans,
        &format!("{block}.mlp.0"),
        &format!("{source}/ffn/linear_0"),
        4 * d,
        d,
    );
    linear(
        plans,
        &format!("{block}.mlp.2"),
        &format!("{source}/ffn/linear_1"),
        d,
        4 * d,
    );
}

fn self_attention(plans: &mut Vec<TensorPlan>, block: &str, source: &str, d: usize) {
    let attention = format!("{source}/self_attention");
    layer_norm(
        plans,
        &format!("{block}.attn_ln"),
        &format!("{attention}/layer_norm"),
        d,
    );
    fused(
        plans,
        &format!("{block}.attn"),
        &format!("{attention}/linear_0"),
        &["query", "key", "value"],
        d,
    );
    linear(
        plans,
        &format!("{block}.attn.out"),
        &format!("{attention}/linear_1"),
        d,
        d,
    );
}

fn encoder_plans(h: &Hparams, plans: &mut Vec<TensorPlan>) {
    let d = h.n_state;
    for (conv, inputs) in [("conv1", h.n_mels), ("conv2", d)] {
        let (name, source) = (format!("encoder.{conv}"), format!("encoder/{conv}"));
        plans.push(tensor(
            format!("{name}.weight"),
            format!("{source}/weight"),
            vec![d, inputs, 3],
            Role::Conv,
        ));
        plans.push(tensor(
            format!("{name}.bias"),
            format!("{source}/bias"),
            vec![d, 1],
            Role::F32,
        ));
    }
    let positions = "encoder/position_encodings/encodings".to_owned();
    plans.push(tensor(
        "encoder.positional_embedding".into(),
        positions,
        vec![h.n_audio_ctx, d],
        Role::F32,
    ));
    for i in 0..h.n_audio_layer {
        let (block, source) = (format!("encoder.blocks.{i}"), format!("encoder/layer_{i}"));
        self_attention(plans, &block, &source, d);
        mlp(plans, &block, &source, d);
    }
    layer_norm(plans, "encoder.ln_post", "encoder/layer_norm", d);
}

fn decoder_plans(h: &Hparams, plans: &mut Vec<TensorPlan>) {
    let d = h.n_state;
    let embedding = "decoder/embeddings/weight".to_owned();
    plans.push(tensor(
        "decoder.token_embedding.weight".into(),
        embedding,
        vec![h.n_vocab, d],
        Role::Weight,
    ));
    let positions = "decoder/position_encodings/encodings".to_owned();
    plans.push(tensor(
        "decoder.positional_embedding".into(),
        positions,
        vec![h.n_text_ctx, d],
        Role::F32,
    ));
    for i in 0..h.n_text_layer {
        let (block, source) = (format!("decoder.blocks.{i}"), format!("decoder/layer_{i}"));
        self_attention(plans, &block, &source, d);
        let cross = format!("{source}/attention");
        layer_norm(
            plans,
            &format!("{block}.cross_attn_ln"),
            &format!("{cross}/layer_norm"),
            d,
        );
        linear(
            plans,
            &format!("{block}.cross_attn.query"),
            &format!("{cross}/linear_0"),
            d,
            d,
        );
        fused(
            plans,
            &format!("{block}.cross_attn"),
            &format!("{cross}/linear_1"),
            &["key", "value"],
            d,
        );
        linear(
            plans,
            &format!("{block}.cross_attn.out"),
            &format!("{cross}/linear_2"),
            d,
            d,
        );
        mlp(plans, &block, &source, d);
    }
    layer_norm(plans, "decoder.ln", "decoder/layer_norm", d);
}

/// Returns the fused bias variables whose key rows must be zero, with the rows.
pub fn key_bias_rows(hparams: &Hparams) -> Vec<(String, (usize, usize))> {
    let d = hparams.n_state;
    let encoder = (0..hparams.n_audio_layer)
        .map(|i| format!("encoder/layer_{i}/self_attention/linear_0/bias"));
    let decoder_self = (0..hparams.n_text_layer)
        .map(|i| format!("decoder/layer_{i}/self_attention/linear_0/bias"));
    let self_rows = encoder.chain(decoder_self).map(|name| (name, (d, 2 * d)));
    let cross = (0..hparams.n_text_layer)
        .map(|i| (format!("decoder/layer_{i}/attention/linear_1/bias"), (0, d)));
    self_rows.chain(cross).collect()
}
