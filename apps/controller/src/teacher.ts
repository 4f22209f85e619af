// The teacher on the artifacts volume: its depth and width from the .onnx metadata Strata writes ('strata.config'),
// read by walking the protobuf's top-level fields and skipping the graph, so a 400 MB teacher costs a few reads.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** ModelProto.metadata_props (onnx.proto: field 14, repeated StringStringEntryProto { key = 1; value = 2 }). */
const METADATA_PROPS = 14;

class FileReader {
  private buf = Buffer.alloc(0);
  private bufStart = 0;
  pos = 0;
  constructor(private readonly fd: number, readonly size: number, private readonly file: string) {}

  private fill(n: number): void {
    if (this.pos >= this.bufStart && this.pos + n <= this.bufStart + this.buf.length) return;
    const len = Math.max(n, 64 * 1024);
    this.buf = Buffer.alloc(len);
    const got = fs.readSync(this.fd, this.buf, 0, len, this.pos);
    this.buf = this.buf.subarray(0, got);
    this.bufStart = this.pos;
    if (got < n) throw new Error(`${this.file}: truncated ONNX file at byte ${this.pos}`);
  }

  byte(): number {
    this.fill(1);
    return this.buf[this.pos++ - this.bufStart];
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new Error(`${this.file}: bad varint at byte ${this.pos}`);
    }
  }

  bytes(n: number): Buffer {
    this.fill(n);
    const out = Buffer.from(this.buf.subarray(this.pos - this.bufStart, this.pos - this.bufStart + n));
    this.pos += n;
    return out;
  }
}

function entry(bytes: Buffer): [string, string] {
  let i = 0;
  let key = '';
  let value = '';
  const varint = () => {
    let r = 0;
    let s = 0;
    for (;;) {
      const b = bytes[i++];
      r += (b & 0x7f) * 2 ** s;
      if ((b & 0x80) === 0) return r;
      s += 7;
    }
  };
  while (i < bytes.length) {
    const tag = varint();
    if ((tag & 7) !== 2) throw new Error('metadata entry: unexpected wire type');
    const len = varint();
    const s = bytes.subarray(i, i + len).toString('utf8');
    i += len;
    if (tag >> 3 === 1) key = s;
    else if (tag >> 3 === 2) value = s;
  }
  return [key, value];
}

/** The metadata_props of an ONNX model file. */
export function readOnnxMetadata(file: string): Record<string, string> {
  const fd = fs.openSync(file, 'r');
  try {
    const r = new FileReader(fd, fs.fstatSync(fd).size, file);
    const out: Record<string, string> = {};
    while (r.pos < r.size) {
      const tag = r.varint();
      const field = Math.floor(tag / 8);
      switch (tag & 7) {
        case 0:
          r.varint();
          break;
        case 1:
          r.pos += 8;
          break;
        case 5:
          r.pos += 4;
          break;
        case 2: {
          const len = r.varint();
          if (field === METADATA_PROPS) {
            const [k, v] = entry(r.bytes(len));
            out[k] = v;
          } else r.pos += len;
          break;
        }
        default:
          throw new Error(`${file}: not an ONNX model (wire type ${tag & 7} at byte ${r.pos})`);
      }
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Depth and width of a teacher: a Strata export's 'strata.config' metadata, else (another tool's export, such as
 * optimum's) the Hugging Face config.json beside it. Either is read without loading the weights.
 */
export function teacherShape(file: string): { layers: number; hidden: number } {
  const raw = readOnnxMetadata(file)['strata.config'];
  if (!raw) {
    const configFile = path.join(path.dirname(file), 'config.json');
    if (!fs.existsSync(configFile)) throw new Error(`${file}: no 'strata.config' metadata and no config.json beside it; put the model's Hugging Face config.json next to an exported teacher`);
    const hf = JSON.parse(fs.readFileSync(configFile, 'utf8')) as { num_hidden_layers?: unknown; hidden_size?: unknown };
    if (!Number.isInteger(hf.num_hidden_layers) || !Number.isInteger(hf.hidden_size)) throw new Error(`${configFile}: no integer num_hidden_layers and hidden_size`);
    return { layers: hf.num_hidden_layers as number, hidden: hf.hidden_size as number };
  }
  const cfg = JSON.parse(raw) as { layers?: unknown; hidden?: unknown };
  if (!Number.isInteger(cfg.layers) || !Number.isInteger(cfg.hidden)) throw new Error(`${file}: 'strata.config' has no integer layers and hidden`);
  return { layers: cfg.layers as number, hidden: cfg.hidden as number };
}

/** Resolves a path of a manifest or request against the artifacts root; refuses to leave it. */
export function underArtifacts(artifacts: string, relative: string): string {
  const root = path.resolve(artifacts);
  const full = path.resolve(root, relative);
  if (full !== root && !full.startsWith(`${root}${path.sep}`)) throw new Error(`${relative} is outside the artifacts root ${root}`);
  return full;
}
