"""Kokoro-82M as PyTorch modules, for the torch backend.

Written for this project from the architecture (StyleTTS 2 with an ALBERT
phoneme encoder and an iSTFTNet vocoder) and checked against the bundled ONNX
graph stage by stage (``api.backends.convert``). Parameter names follow the
official ``kokoro-v1_0.pth`` state dict, so that file loads too; see
``load_state_dict_compat`` for the few differences.

Two choices follow the ONNX export rather than the training code, so that both
backends say the same thing:

* the harmonic source is deterministic: no random initial phase and no added
  noise, which makes the output reproducible;
* weight normalization is folded: every convolution holds its effective
  ``weight`` (an official file's ``weight_g``/``weight_v`` pairs are folded on
  load).

Shapes use B (batch, always 1 here), T (tokens with their two pads), F (frames
of 600 samples after the duration model) and C (channels).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import torch
import torch.nn.functional as F  # noqa: N812 - the conventional name
from torch import Tensor, nn

SAMPLE_RATE = 24_000


@dataclass(frozen=True)
class NetworkConfig:
    """The hyper-parameters of ``kokoro-v1.0-config.json`` that shape the network."""

    n_token: int = 178
    hidden_dim: int = 512
    style_dim: int = 128
    n_layer: int = 3
    max_dur: int = 50
    text_encoder_kernel_size: int = 5
    albert_embedding: int = 128
    albert_hidden: int = 768
    albert_heads: int = 12
    albert_intermediate: int = 2048
    albert_layers: int = 12
    albert_positions: int = 512
    upsample_rates: tuple[int, ...] = (10, 6)
    upsample_kernel_sizes: tuple[int, ...] = (20, 12)
    upsample_initial_channel: int = 512
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilation_sizes: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5))
    n_fft: int = 20
    hop: int = 5

    @classmethod
    def from_json(cls, config: dict[str, Any]) -> NetworkConfig:
        """Read the fields this module uses from the official config's layout."""
        ist = config["istftnet"]
        bert = config["plbert"]
        return cls(
            n_token=int(config["n_token"]),
            hidden_dim=int(config["hidden_dim"]),
            style_dim=int(config["style_dim"]),
            n_layer=int(config["n_layer"]),
            max_dur=int(config["max_dur"]),
            text_encoder_kernel_size=int(config["text_encoder_kernel_size"]),
            albert_hidden=int(bert["hidden_size"]),
            albert_heads=int(bert["num_attention_heads"]),
            albert_intermediate=int(bert["intermediate_size"]),
            albert_layers=int(bert["num_hidden_layers"]),
            albert_positions=int(bert["max_position_embeddings"]),
            upsample_rates=tuple(ist["upsample_rates"]),
            upsample_kernel_sizes=tuple(ist["upsample_kernel_sizes"]),
            upsample_initial_channel=int(ist["upsample_initial_channel"]),
            resblock_kernel_sizes=tuple(ist["resblock_kernel_sizes"]),
            resblock_dilation_sizes=tuple(tuple(d) for d in ist["resblock_dilation_sizes"]),
            n_fft=int(ist["gen_istft_n_fft"]),
            hop=int(ist["gen_istft_hop_size"]),
        )


# --- the phoneme encoder (ALBERT) -------------------------------------------------


class AlbertEmbeddings(nn.Module):
    def __init__(self, cfg: NetworkConfig) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(cfg.n_token, cfg.albert_embedding)
        self.position_embeddings = nn.Embedding(cfg.albert_positions, cfg.albert_embedding)
        self.token_type_embeddings = nn.Embedding(2, cfg.albert_embedding)
        self.LayerNorm = nn.LayerNorm(cfg.albert_embedding, eps=1e-12)

    def forward(self, tokens: Tensor) -> Tensor:
        positions = torch.arange(tokens.shape[1], device=tokens.device)
        x = (
            self.word_embeddings(tokens)
            + self.position_embeddings(positions)[None]
            + self.token_type_embeddings.weight[0]
        )
        return self.LayerNorm(x)  # type: ignore[no-any-return]


class AlbertAttention(nn.Module):
    def __init__(self, cfg: NetworkConfig) -> None:
        super().__init__()
        width = cfg.albert_hidden
        self.heads = cfg.albert_heads
        self.query = nn.Linear(width, width)
        self.key = nn.Linear(width, width)
        self.value = nn.Linear(width, width)
        self.dense = nn.Linear(width, width)
        self.LayerNorm = nn.LayerNorm(width, eps=1e-12)

    def forward(self, x: Tensor) -> Tensor:
        b, t, c = x.shape

        def split(y: Tensor) -> Tensor:
            return y.view(b, t, self.heads, c // self.heads).transpose(1, 2)

        context = F.scaled_dot_product_attention(
            split(self.query(x)), split(self.key(x)), split(self.value(x))
        )
        merged = context.transpose(1, 2).reshape(b, t, c)
        return self.LayerNorm(x + self.dense(merged))  # type: ignore[no-any-return]


class AlbertLayer(nn.Module):
    def __init__(self, cfg: NetworkConfig) -> None:
        super().__init__()
        self.attention = AlbertAttention(cfg)
        self.ffn = nn.Linear(cfg.albert_hidden, cfg.albert_intermediate)
        self.ffn_output = nn.Linear(cfg.albert_intermediate, cfg.albert_hidden)
        self.full_layer_layer_norm = nn.LayerNorm(cfg.albert_hidden, eps=1e-12)

    def forward(self, x: Tensor) -> Tensor:
        attended = self.attention(x)
        hidden = self.ffn_output(F.gelu(self.ffn(attended), approximate="tanh"))
        return self.full_layer_layer_norm(hidden + attended)  # type: ignore[no-any-return]


class AlbertLayerGroup(nn.Module):
    def __init__(self, cfg: NetworkConfig) -> None:
        super().__init__()
        self.albert_layers = nn.ModuleList([AlbertLayer(cfg)])


class AlbertEncoder(nn.Module):
    def __init__(self, cfg: NetworkConfig) -> None:
        super().__init__()
        self.embedding_hidden_mapping_in = nn.Linear(cfg.albert_embedding, cfg.albert_hidden)
        self.albert_layer_groups = nn.ModuleList([AlbertLayerGroup(cfg)])
        self.repeats = cfg.albert_layers

    def forward(self, x: Tensor) -> Tensor:
        x = self.embedding_hidden_mapping_in(x)
        # ALBERT shares one layer's weights across all of its layers.
        group = cast(AlbertLayerGroup, self.albert_layer_groups[0])
        layer = group.albert_layers[0]
        for _ in range(self.repeats):
            x = layer(x)
        return x


class Albert(nn.Module):
    """ALBERT over phoneme ids: (B, T) ids -> (B, T, 768)."""

    def __init__(self, cfg: NetworkConfig) -> None:
        super().__init__()
        self.embeddings = AlbertEmbeddings(cfg)
        self.encoder = AlbertEncoder(cfg)

    def forward(self, tokens: Tensor) -> Tensor:
        return self.encoder(self.embeddings(tokens))  # type: ignore[no-any-return]


# --- building blocks ------------------------------------------------------------------


class ChannelLayerNorm(nn.Module):
    """Layer norm over the channels of a (B, C, T) tensor, with ``gamma``/``beta``."""

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(channels))
        self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:
        y = F.layer_norm(x.transpose(1, -1), (x.shape[1],), self.gamma, self.beta, self.eps)
        return y.transpose(1, -1)


class AdaLayerNorm(nn.Module):
    """Layer norm over channels of (B, T, C), scaled and shifted by the style."""

    def __init__(self, style_dim: int, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.fc = nn.Linear(style_dim, channels * 2)

    def forward(self, x: Tensor, style: Tensor) -> Tensor:
        gamma, beta = self.fc(style).chunk(2, dim=-1)
        x = F.layer_norm(x, (self.channels,), eps=1e-5)
        out: Tensor = (1 + gamma[:, None]) * x + beta[:, None]
        return out


class AdaIN1d(nn.Module):
    """Instance norm over time of (B, C, T), scaled and shifted by the style."""

    def __init__(self, style_dim: int, channels: int) -> None:
        super().__init__()
        self.fc = nn.Linear(style_dim, channels * 2)

    def forward(self, x: Tensor, style: Tensor) -> Tensor:
        gamma, beta = self.fc(style).chunk(2, dim=-1)
        out: Tensor = (1 + gamma[..., None]) * F.instance_norm(x, eps=1e-5) + beta[..., None]
        return out


class AdainResBlk1d(nn.Module):
    """Residual block with style-adaptive norms; optionally doubles the frame rate."""

    def __init__(
        self, dim_in: int, dim_out: int, style_dim: int, *, upsample: bool = False
    ) -> None:
        super().__init__()
        self.upsample = upsample
        self.norm1 = AdaIN1d(style_dim, dim_in)
        self.norm2 = AdaIN1d(style_dim, dim_out)
        self.conv1 = nn.Conv1d(dim_in, dim_out, 3, padding=1)
        self.conv2 = nn.Conv1d(dim_out, dim_out, 3, padding=1)
        self.pool: nn.Module = (
            nn.ConvTranspose1d(
                dim_in, dim_in, 3, stride=2, padding=1, output_padding=1, groups=dim_in
            )
            if upsample
            else nn.Identity()
        )
        self.conv1x1: nn.Module | None = (
            nn.Conv1d(dim_in, dim_out, 1, bias=False) if dim_in != dim_out else None
        )

    def forward(self, x: Tensor, style: Tensor) -> Tensor:
        shortcut = F.interpolate(x, scale_factor=2.0, mode="nearest") if self.upsample else x
        if self.conv1x1 is not None:
            shortcut = self.conv1x1(shortcut)
        y = F.leaky_relu(self.norm1(x, style), 0.2)
        y = self.conv1(self.pool(y))
        y = self.conv2(F.leaky_relu(self.norm2(y, style), 0.2))
        out: Tensor = (y + shortcut) / math.sqrt(2)
        return out


def snake(x: Tensor, alpha: Tensor) -> Tensor:
    """The periodic activation x + sin²(αx)/α."""
    return x + torch.sin(alpha * x).pow(2) / alpha


class AdaINResBlock1(nn.Module):
    """The vocoder's residual block: three dilated conv pairs with snake activations."""

    def __init__(
        self, channels: int, kernel: int, dilations: tuple[int, ...], style_dim: int
    ) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, dilation=d, padding=d * (kernel - 1) // 2)
            for d in dilations
        )
        self.convs2 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel, padding=(kernel - 1) // 2) for _ in dilations
        )
        self.adain1 = nn.ModuleList(AdaIN1d(style_dim, channels) for _ in dilations)
        self.adain2 = nn.ModuleList(AdaIN1d(style_dim, channels) for _ in dilations)
        self.alpha1 = nn.ParameterList(nn.Parameter(torch.ones(1, channels, 1)) for _ in dilations)
        self.alpha2 = nn.ParameterList(nn.Parameter(torch.ones(1, channels, 1)) for _ in dilations)

    def forward(self, x: Tensor, style: Tensor) -> Tensor:
        for c1, c2, n1, n2, a1, a2 in zip(
            self.convs1,
            self.convs2,
            self.adain1,
            self.adain2,
            self.alpha1,
            self.alpha2,
            strict=True,
        ):
            y = c1(snake(n1(x, style), a1))
            x = x + c2(snake(n2(y, style), a2))
        return x


def run_lstm(lstm: nn.LSTM, x: Tensor) -> Tensor:
    """A batch-first LSTM's outputs (its states are not needed)."""
    out, _ = lstm(x)
    return out  # type: ignore[no-any-return]


# --- the prosody and text encoders -----------------------------------------------------


class DurationEncoder(nn.Module):
    """BiLSTMs alternating with style layer norms; (B, C, T) -> (B, T, C + style)."""

    def __init__(self, style_dim: int, width: int, layers: int) -> None:
        super().__init__()
        blocks: list[nn.Module] = []
        for _ in range(layers):
            blocks.append(
                nn.LSTM(width + style_dim, width // 2, batch_first=True, bidirectional=True)
            )
            blocks.append(AdaLayerNorm(style_dim, width))
        self.lstms = nn.ModuleList(blocks)

    def forward(self, x: Tensor, style: Tensor) -> Tensor:
        styles = style[:, None].expand(-1, x.shape[2], -1)
        x = torch.cat([x.transpose(1, 2), styles], dim=-1)
        for block in self.lstms:
            if isinstance(block, AdaLayerNorm):
                x = torch.cat([block(x, style), styles], dim=-1)
            elif isinstance(block, nn.LSTM):
                x = run_lstm(block, x)
        return x


class LinearNorm(nn.Module):
    def __init__(self, dim_in: int, dim_out: int) -> None:
        super().__init__()
        self.linear_layer = nn.Linear(dim_in, dim_out)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear_layer(x)  # type: ignore[no-any-return]


class ProsodyPredictor(nn.Module):
    """Durations per token, then pitch (F0) and energy (N) per half frame."""

    def __init__(self, cfg: NetworkConfig) -> None:
        super().__init__()
        width, style = cfg.hidden_dim, cfg.style_dim
        self.text_encoder = DurationEncoder(style, width, cfg.n_layer)
        self.lstm = nn.LSTM(width + style, width // 2, batch_first=True, bidirectional=True)
        self.duration_proj = LinearNorm(width, cfg.max_dur)
        self.shared = nn.LSTM(width + style, width // 2, batch_first=True, bidirectional=True)
        half = width // 2
        self.F0 = nn.ModuleList(
            [
                AdainResBlk1d(width, width, style),
                AdainResBlk1d(width, half, style, upsample=True),
                AdainResBlk1d(half, half, style),
            ]
        )
        self.N = nn.ModuleList(
            [
                AdainResBlk1d(width, width, style),
                AdainResBlk1d(width, half, style, upsample=True),
                AdainResBlk1d(half, half, style),
            ]
        )
        self.F0_proj = nn.Conv1d(half, 1, 1)
        self.N_proj = nn.Conv1d(half, 1, 1)

    def durations(self, d: Tensor, speed: float) -> Tensor:
        """Frames per token (at least 1) from the duration features ``d`` (B, T, C)."""
        logits = self.duration_proj(run_lstm(self.lstm, d))
        frames = torch.sigmoid(logits).sum(dim=-1) / speed
        return torch.round(frames).clamp(min=1).long()

    def pitch_energy(self, aligned: Tensor, style: Tensor) -> tuple[Tensor, Tensor]:
        """F0 and N curves (B, 2F) from the frame-aligned features (B, C, F)."""
        x = run_lstm(self.shared, aligned.transpose(1, 2)).transpose(1, 2)
        f0, n = x, x
        for f0_block, n_block in zip(self.F0, self.N, strict=True):
            f0 = f0_block(f0, style)
            n = n_block(n, style)
        return self.F0_proj(f0)[:, 0], self.N_proj(n)[:, 0]


class TextEncoder(nn.Module):
    """Phoneme embeddings through convolutions and a BiLSTM: (B, T) -> (B, C, T)."""

    def __init__(self, cfg: NetworkConfig) -> None:
        super().__init__()
        width, kernel = cfg.hidden_dim, cfg.text_encoder_kernel_size
        self.embedding = nn.Embedding(cfg.n_token, width)
        self.cnn = nn.ModuleList(
            nn.Sequential(
                nn.Conv1d(width, width, kernel, padding=(kernel - 1) // 2),
                ChannelLayerNorm(width),
                nn.LeakyReLU(0.2),
            )
            for _ in range(cfg.n_layer)
        )
        self.lstm = nn.LSTM(width, width // 2, batch_first=True, bidirectional=True)

    def forward(self, tokens: Tensor) -> Tensor:
        x = self.embedding(tokens).transpose(1, 2)
        for block in self.cnn:
            x = block(x)
        return run_lstm(self.lstm, x.transpose(1, 2)).transpose(1, 2)


# --- the vocoder --------------------------------------------------------------------------


class SineGen(nn.Module):
    """Sine waves at F0 and its harmonics where the frame is voiced."""

    multiples: Tensor

    def __init__(self, harmonics: int, upsample_scale: int) -> None:
        super().__init__()
        self.upsample_scale = upsample_scale
        self.register_buffer(
            "multiples", torch.arange(1, harmonics + 2, dtype=torch.float32), persistent=False
        )

    def forward(self, f0: Tensor) -> Tensor:
        """(B, L, 1) F0 in Hz at the sample rate -> (B, L, harmonics + 1) waves."""
        cycles = f0 * self.multiples / SAMPLE_RATE
        cycles = cycles - torch.floor(cycles)
        # Integrate the phase at the frame rate and interpolate it back up, as the
        # model was trained: integrating per sample drifts in float32.
        coarse = F.interpolate(
            cycles.transpose(1, 2), scale_factor=1 / self.upsample_scale, mode="linear"
        )
        phase = torch.cumsum(coarse, dim=2) * (2 * math.pi * self.upsample_scale)
        phase = F.interpolate(phase, scale_factor=float(self.upsample_scale), mode="linear")
        voiced = (f0 > 10.0).to(f0.dtype)
        return torch.sin(phase.transpose(1, 2)) * 0.1 * voiced


class SourceModuleHnNSF(nn.Module):
    """Harmonic-plus-noise source: harmonics merged into one excitation signal."""

    def __init__(self, harmonics: int, upsample_scale: int) -> None:
        super().__init__()
        self.l_sin_gen = SineGen(harmonics, upsample_scale)
        self.l_linear = nn.Linear(harmonics + 1, 1)

    def forward(self, f0: Tensor) -> Tensor:
        return torch.tanh(self.l_linear(self.l_sin_gen(f0)))


class Spectral(nn.Module):
    """The short-time Fourier transforms of the vocoder (Hann window, centred)."""

    window: Tensor

    def __init__(self, n_fft: int, hop: int) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.hop = hop
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    def magnitude_phase(self, x: Tensor) -> tuple[Tensor, Tensor]:
        spec = torch.stft(
            x,
            self.n_fft,
            self.hop,
            window=self.window,
            center=True,
            pad_mode="reflect",
            return_complex=True,
        )
        return spec.abs(), torch.angle(spec)

    def inverse(self, magnitude: Tensor, phase: Tensor) -> Tensor:
        spec = torch.polar(magnitude, phase)
        return torch.istft(spec, self.n_fft, self.hop, window=self.window, center=True)


class Generator(nn.Module):
    """iSTFTNet: upsampling convolutions fed by a harmonic source, then an inverse STFT."""

    def __init__(self, cfg: NetworkConfig) -> None:
        super().__init__()
        style = cfg.style_dim
        scale = math.prod(cfg.upsample_rates) * cfg.hop
        self.upsample_scale = scale
        self.m_source = SourceModuleHnNSF(8, scale)
        self.stft = Spectral(cfg.n_fft, cfg.hop)
        self.ups = nn.ModuleList()
        self.noise_convs = nn.ModuleList()
        self.noise_res = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        channels = cfg.upsample_initial_channel
        rates = cfg.upsample_rates
        for i, (rate, kernel) in enumerate(zip(rates, cfg.upsample_kernel_sizes, strict=True)):
            out = channels // 2 ** (i + 1)
            self.ups.append(
                nn.ConvTranspose1d(out * 2, out, kernel, rate, padding=(kernel - rate) // 2)
            )
            if i + 1 < len(rates):
                stride = math.prod(rates[i + 1 :])
                self.noise_convs.append(
                    nn.Conv1d(cfg.n_fft + 2, out, stride * 2, stride, padding=(stride + 1) // 2)
                )
                self.noise_res.append(AdaINResBlock1(out, 7, (1, 3, 5), style))
            else:
                self.noise_convs.append(nn.Conv1d(cfg.n_fft + 2, out, 1))
                self.noise_res.append(AdaINResBlock1(out, 11, (1, 3, 5), style))
            for k, d in zip(cfg.resblock_kernel_sizes, cfg.resblock_dilation_sizes, strict=True):
                self.resblocks.append(AdaINResBlock1(out, k, d, style))
        self.kernels = len(cfg.resblock_kernel_sizes)
        self.conv_post = nn.Conv1d(out, cfg.n_fft + 2, 7, padding=3)
        self.bins = cfg.n_fft // 2 + 1

    def forward(self, x: Tensor, style: Tensor, f0: Tensor) -> Tensor:
        f0_samples = F.interpolate(f0[:, None], scale_factor=float(self.upsample_scale))
        source = self.m_source(f0_samples.transpose(1, 2))[..., 0]
        magnitude, phase = self.stft.magnitude_phase(source)
        harmonics = torch.cat([magnitude, phase], dim=1)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, 0.1))
            if i == len(self.ups) - 1:
                x = F.pad(x, (1, 0), mode="reflect")
            x = x + self.noise_res[i](self.noise_convs[i](harmonics), style)
            blocks = self.resblocks[i * self.kernels : (i + 1) * self.kernels]
            x = sum((block(x, style) for block in blocks), torch.zeros_like(x)) / self.kernels
        x = self.conv_post(F.leaky_relu(x, 0.01))
        return self.stft.inverse(torch.exp(x[:, : self.bins]), torch.sin(x[:, self.bins :]))


class Decoder(nn.Module):
    """Frame features, F0 and N -> waveform."""

    def __init__(self, cfg: NetworkConfig) -> None:
        super().__init__()
        style, width = cfg.style_dim, cfg.hidden_dim
        self.encode = AdainResBlk1d(width + 2, 1024, style)
        self.decode = nn.ModuleList(
            [
                AdainResBlk1d(1024 + 2 + 64, 1024, style),
                AdainResBlk1d(1024 + 2 + 64, 1024, style),
                AdainResBlk1d(1024 + 2 + 64, 1024, style),
                AdainResBlk1d(1024 + 2 + 64, 512, style, upsample=True),
            ]
        )
        self.F0_conv = nn.Conv1d(1, 1, 3, stride=2, padding=1)
        self.N_conv = nn.Conv1d(1, 1, 3, stride=2, padding=1)
        self.asr_res = nn.Sequential(nn.Conv1d(width, 64, 1))
        self.generator = Generator(cfg)

    def forward(self, asr: Tensor, f0: Tensor, n: Tensor, style: Tensor) -> Tensor:
        f0_frames = self.F0_conv(f0[:, None])
        n_frames = self.N_conv(n[:, None])
        x = self.encode(torch.cat([asr, f0_frames, n_frames], dim=1), style)
        residual = self.asr_res(asr)
        for block in self.decode:
            x = block(torch.cat([x, residual, f0_frames, n_frames], dim=1), style)
        return self.generator(x, style, f0)  # type: ignore[no-any-return]


def alignment(frames: Tensor) -> Tensor:
    """(T, F) one-hot matrix that repeats token t for ``frames[t]`` frames."""
    ends = torch.cumsum(frames, dim=0)
    starts = ends - frames
    grid = torch.arange(int(ends[-1]), device=frames.device)
    return ((grid >= starts[:, None]) & (grid < ends[:, None])).to(torch.float32)


@dataclass
class Stages:
    """Intermediate tensors of one forward pass, for checks against the ONNX graph."""

    bert: Tensor
    d: Tensor
    durations: Tensor
    t_en: Tensor
    f0: Tensor
    n: Tensor
    audio: Tensor


class KokoroNetwork(nn.Module):
    """The whole model: token ids, a style vector and a speed -> audio and durations."""

    def __init__(self, cfg: NetworkConfig | None = None) -> None:
        super().__init__()
        cfg = cfg or NetworkConfig()
        self.cfg = cfg
        self.bert = Albert(cfg)
        self.bert_encoder = nn.Linear(cfg.albert_hidden, cfg.hidden_dim)
        self.predictor = ProsodyPredictor(cfg)
        self.text_encoder = TextEncoder(cfg)
        self.decoder = Decoder(cfg)

    def stages(
        self, tokens: Tensor, style: Tensor, speed: float, frames: Tensor | None = None
    ) -> Stages:
        """Run the model on padded ``tokens`` (1, T) with ``style`` (1, 256).

        ``frames`` replaces the predicted durations (checks use the ONNX graph's,
        so that later stages compare frame for frame).
        """
        timbre, prosody = style[:, : self.cfg.style_dim], style[:, self.cfg.style_dim :]
        bert = self.bert(tokens)
        d = self.predictor.text_encoder(self.bert_encoder(bert).transpose(1, 2), prosody)
        predicted = self.predictor.durations(d, speed)[0]
        durations = predicted if frames is None else frames
        aligned = alignment(durations)
        f0, n = self.predictor.pitch_energy(d.transpose(1, 2) @ aligned, prosody)
        t_en = self.text_encoder(tokens)
        audio = self.decoder(t_en @ aligned, f0, n, timbre)
        return Stages(bert, d, predicted, t_en, f0, n, audio[0])

    def forward(self, tokens: Tensor, style: Tensor, speed: float) -> tuple[Tensor, Tensor]:
        """Audio (samples) and frames per position of the padded ``tokens``."""
        out = self.stages(tokens, style, speed)
        return out.audio, out.durations


_UNUSED_KEYS = re.compile(r"^bert\.(pooler\.|embeddings\.position_ids$)")
_WEIGHT_NORM = {
    ".weight_g": ".weight_v",  # torch.nn.utils.weight_norm
    ".parametrizations.weight.original0": ".parametrizations.weight.original1",  # parametrize
}


def flatten_official(raw: Mapping[str, Any]) -> dict[str, Tensor]:
    """Our state dict from an official ``kokoro-v1_0.pth``.

    That file maps each component (``bert``, ``bert_encoder``, ``predictor``,
    ``text_encoder``, ``decoder``) to its own state dict, sometimes with the
    ``module.`` prefix of DataParallel, and keeps weight norm as direction and
    magnitude pairs; here they are flattened and folded into plain weights. The
    pooler and position ids of ALBERT are never used and are dropped. A dict
    that is already flat passes through, folded the same way.
    """
    flat: dict[str, Tensor] = {}
    for part, value in raw.items():
        if isinstance(value, Mapping):
            for key, tensor in value.items():
                flat[f"{part}.{key.removeprefix('module.')}"] = tensor
        else:
            flat[part] = value
    for g_suffix, v_suffix in _WEIGHT_NORM.items():
        for key in [k for k in flat if k.endswith(g_suffix)]:
            base = key.removesuffix(g_suffix)
            magnitude, direction = flat.pop(key), flat.pop(base + v_suffix)
            dims = tuple(range(1, direction.dim()))
            norm = direction.norm(dim=dims, keepdim=True)
            # A direction of all zeros has no norm; its weight is zero either way.
            flat[base + ".weight"] = torch.where(
                norm > 0, magnitude * direction / norm.clamp_min(1e-12), 0.0
            )
    return {k: v for k, v in flat.items() if not _UNUSED_KEYS.match(k)}
