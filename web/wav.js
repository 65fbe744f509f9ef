// Microphone recording as raw PCM, encoded as a 16 kHz mono 16-bit WAV file
// (RIFF, format 1), the input the transcriber decodes without a codec.
//
// Samples come from an AudioWorklet; where the browser has none, from a
// ScriptProcessorNode. Both hand over Float32 blocks of the first channel.

/** Sample rate of the encoded file, in Hz: Whisper's input rate. */
export const TARGET_RATE_HZ = 16000;

const SCRIPT_BUFFER_FRAMES = 4096;
const WORKLET_NAME = "callcoach-pcm-tap";
const WORKLET_SOURCE = `
class PcmTap extends AudioWorkletProcessor {
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel && channel.length) {
      this.port.postMessage(channel.slice(0));
    }
    return true;
  }
}
registerProcessor("${WORKLET_NAME}", PcmTap);
`;

/** Records one take from a MediaStream and returns it as a WAV Blob. */
export class WavRecorder {
  constructor() {
    this.blocks = [];
    this.frames = 0;
    this.context = null;
    this.nodes = [];
  }

  /** Starts collecting samples from `stream`. */
  async start(stream) {
    this.stream = stream;
    this.context = new AudioContext();
    const source = this.context.createMediaStreamSource(stream);
    const collect = (block) => {
      this.blocks.push(block);
      this.frames += block.length;
    };
    let tap;
    if (this.context.audioWorklet) {
      const url = URL.createObjectURL(new Blob([WORKLET_SOURCE], { type: "text/javascript" }));
      await this.context.audioWorklet.addModule(url);
      URL.revokeObjectURL(url);
      tap = new AudioWorkletNode(this.context, WORKLET_NAME);
      tap.port.onmessage = (event) => collect(event.data);
    } else {
      tap = this.context.createScriptProcessor(SCRIPT_BUFFER_FRAMES, 1, 1);
      tap.onaudioprocess = (event) => collect(event.inputBuffer.getChannelData(0).slice(0));
    }
    // A muted gain keeps the graph pulling samples without echoing the voice.
    const mute = this.context.createGain();
    mute.gain.value = 0;
    source.connect(tap);
    tap.connect(mute);
    mute.connect(this.context.destination);
    this.nodes = [source, tap, mute];
    if (this.context.state === "suspended") {
      await this.context.resume();
    }
  }

  /** Returns the recorded length so far, in milliseconds. */
  durationMs() {
    if (!this.context) {
      return 0;
    }
    return (this.frames / this.context.sampleRate) * 1000;
  }

  /** Stops recording, releases the microphone and returns the WAV Blob. */
  async stop() {
    for (const node of this.nodes) {
      node.disconnect();
    }
    for (const track of this.stream ? this.stream.getTracks() : []) {
      track.stop();
    }
    const rate = this.context ? this.context.sampleRate : TARGET_RATE_HZ;
    if (this.context) {
      await this.context.close();
    }
    const samples = concat(this.blocks, this.frames);
    const resampled = resample(samples, rate, TARGET_RATE_HZ);
    return encodeWav(resampled, TARGET_RATE_HZ);
  }
}

function concat(blocks, frames) {
  const out = new Float32Array(frames);
  let offset = 0;
  for (const block of blocks) {
    out.set(block, offset);
    offset += block.length;
  }
  return out;
}

/**
 * Converts `samples` from `fromHz` to `toHz`. Downsampling averages the
 * input samples that fall into each output sample. This box filter only
 * partly removes energy above the new Nyquist frequency. Upsampling
 * interpolates linearly.
 */
export function resample(samples, fromHz, toHz) {
  if (fromHz === toHz) {
    return samples;
  }
  const ratio = fromHz / toHz;
  const length = Math.floor(samples.length / ratio);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i += 1) {
    const start = i * ratio;
    if (ratio > 1) {
      const first = Math.floor(start);
      const last = Math.min(samples.length, Math.floor(start + ratio));
      let sum = 0;
      for (let j = first; j < last; j += 1) {
        sum += samples[j];
      }
      out[i] = last > first ? sum / (last - first) : 0;
    } else {
      const left = Math.floor(start);
      const right = Math.min(samples.length - 1, left + 1);
      const fraction = start - left;
      out[i] = samples[left] * (1 - fraction) + samples[right] * fraction;
    }
  }
  return out;
}

/** Encodes mono Float32 samples in -1..1 as a 16-bit PCM WAV Blob. */
export function encodeWav(samples, rateHz) {
  const bytesPerSample = 2;
  const dataBytes = samples.length * bytesPerSample;
  const view = new DataView(new ArrayBuffer(44 + dataBytes));
  const text = (offset, value) => {
    for (let i = 0; i < value.length; i += 1) {
      view.setUint8(offset + i, value.charCodeAt(i));
    }
  };
  text(0, "RIFF");
  view.setUint32(4, 36 + dataBytes, true);
  text(8, "WAVE");
  text(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, 1, true);
  view.setUint32(24, rateHz, true);
  view.setUint32(28, rateHz * bytesPerSample, true);
  view.setUint16(32, bytesPerSample, true);
  view.setUint16(34, 16, true);
  text(36, "data");
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i += 1) {
    const clamped = Math.max(-1, Math.min(1, samples[i]));
    view.setInt16(44 + i * 2, clamped < 0 ? clamped * 0x8000 : clamped * 0x7fff, true);
  }
  return new Blob([view.buffer], { type: "audio/wav" });
}
