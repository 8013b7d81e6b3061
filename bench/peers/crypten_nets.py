#!/usr/bin/env python3
"""The two networks of the peer comparison (bench/peers/README.md) in CrypTen,
2PC with a trusted third party (cfg.mpc.provider = "TTP": two computing
processes and the TTP process, gloo over loopback), with our seed weights and
our benchmark input from bench/peers/export-weights.ts's model.json.

    PYTHONPATH=/work/peers/CrypTen python3 bench/peers/crypten_nets.py \
        --data /work/peers/data --model networkA,cnn-maxpool --reps 5

The model is built in PyTorch from the Keras-layout weights (conv kernels
[kh, kw, Cin, Cout] -> [Cout, Cin, kh, kw]; the first Dense's rows reordered
from Keras's HWC flatten to PyTorch's CHW), converted with
crypten.nn.from_pytorch and encrypted by party 0; party 1 encrypts the
image. The first convolution's TF-style asymmetric 'same' padding is applied
to the image before it is encrypted (zero padding at public positions).
Timed: the encrypted forward pass alone, --reps times after one warm-up; the
script prints one JSON line per model with the times and the decrypted
logits (read by bench/peers/compare.ts).
"""
import argparse
import json
import os
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def tf_same_pad(n, k, s):
    """TF 'same' padding of one axis: (before, after)."""
    total = max(k - s, 0) if n % s == 0 else max(k - n % s, 0)
    return total // 2, total - total // 2


def build(spec):
    """PyTorch model (NCHW) and the padded NCHW input for model.json's network."""
    h, w, c = spec["inputShape"] if len(spec["inputShape"]) == 3 else (None, None, None)
    x = torch.tensor(spec["input"], dtype=torch.float32)
    mods = []
    shape = None  # current (C, H, W) for convolutional models
    if h is not None:
        x = x.reshape(1, h, w, c).permute(0, 3, 1, 2)
        shape = (c, h, w)
    first = True
    flat_hwc = None
    for layer in spec["layers"]:
        p = layer["params"]
        if layer["kind"] == "conv2d":
            kh, kw = p["kernel"]
            sh, sw = p["stride"]
            cin, ih, iw = shape
            if p["padding"] == "same":
                if not first:
                    raise ValueError("crypten_nets: 'same' padding only on the first layer")
                (pt, pb), (pl, pr) = tf_same_pad(ih, kh, sh), tf_same_pad(iw, kw, sw)
                x = F.pad(x, (pl, pr, pt, pb))
                ih, iw = ih + pt + pb, iw + pl + pr
            conv = nn.Conv2d(cin, p["filters"], (kh, kw), (sh, sw))
            k = torch.tensor(layer["kernel"]["data"], dtype=torch.float32).reshape(layer["kernel"]["shape"])
            conv.weight.data = k.permute(3, 2, 0, 1).contiguous()
            conv.bias.data = torch.tensor(layer["bias"]["data"], dtype=torch.float32)
            mods.append(conv)
            if p["activation"] == "relu":
                mods.append(nn.ReLU())
            shape = (p["filters"], (ih - kh) // sh + 1, (iw - kw) // sw + 1)
        elif layer["kind"] == "maxpool2d":
            (k, _), (s, _) = p["size"], p["stride"]
            mods.append(nn.MaxPool2d(k, s))
            cin, ih, iw = shape
            shape = (cin, (ih - k) // s + 1, (iw - k) // s + 1)
        elif layer["kind"] == "flatten":
            mods.append(nn.Flatten())
            flat_hwc = (shape[1], shape[2], shape[0])
        elif layer["kind"] == "dense":
            din, units = layer["kernel"]["shape"]
            k = torch.tensor(layer["kernel"]["data"], dtype=torch.float32).reshape(din, units)
            if flat_hwc is not None:
                hh, ww, cc = flat_hwc
                k = k.reshape(hh, ww, cc, units).permute(2, 0, 1, 3).reshape(din, units)
                flat_hwc = None
            lin = nn.Linear(din, units)
            lin.weight.data = k.t().contiguous()
            lin.bias.data = torch.tensor(layer["bias"]["data"], dtype=torch.float32)
            mods.append(lin)
            if p["activation"] == "relu":
                mods.append(nn.ReLU())
        else:
            raise ValueError("crypten_nets: layer kind %s not supported" % layer["kind"])
        first = False
    if h is None:
        x = x.reshape(1, -1)
    return nn.Sequential(*mods).eval(), x


def run(spec, reps, threads):
    import crypten
    import crypten.communicator as comm
    from crypten.config import cfg

    @crypten.mpc.run_multiprocess(world_size=2)
    def party():
        torch.set_num_threads(threads)
        model, x = build(spec)
        rank = comm.get().get_rank()
        enc = crypten.nn.from_pytorch(model, torch.zeros_like(x))
        enc.encrypt(src=0)
        enc.eval()
        xe = crypten.cryptensor(x if rank == 1 else torch.zeros_like(x), src=1)
        with crypten.no_grad():
            enc(xe)  # warm-up
            times = []
            for _ in range(reps):
                comm.get().barrier()
                t = time.perf_counter()
                y = enc(xe)
                times.append((time.perf_counter() - t) * 1000)
            logits = y.get_plain_text().flatten().tolist()
        return {"times_ms": times, "logits": logits, "plain_torch": model(x).flatten().tolist()}

    cfg.mpc.provider = "TTP"
    return party()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/work/peers/data")
    ap.add_argument("--model", default="networkA,cnn-maxpool")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch threads per party process")
    a = ap.parse_args()
    for key in a.model.split(","):
        with open(os.path.join(a.data, key, "model.json")) as f:
            spec = json.load(f)
        res = run(spec, a.reps, a.threads)
        if not res:
            raise SystemExit("crypten_nets: a party failed on %s" % key)
        r0 = res[0]
        t = sorted(r0["times_ms"])
        print(json.dumps({"peer": "crypten-2pc-ttp", "model": key, "reps": a.reps, "median_ms": t[len(t) // 2],
                          "times_ms": r0["times_ms"], "logits": r0["logits"], "plain_torch": r0["plain_torch"]}), flush=True)


if __name__ == "__main__":
    main()
