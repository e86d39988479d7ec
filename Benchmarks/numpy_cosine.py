#!/usr/bin/env python3
"""The baseline users would write: per-tensor cosine of two safetensors files with numpy.

Usage: numpy_cosine.py A.safetensors B.safetensors  -> prints seconds and the tensor count.
"""
import sys
import time

import numpy as np
from safetensors.numpy import safe_open


def main():
    a_path, b_path = sys.argv[1], sys.argv[2]
    start = time.perf_counter()
    cosines = {}
    with safe_open(a_path, framework="np") as fa, safe_open(b_path, framework="np") as fb:
        for name in fa.keys():
            if name not in fb.keys():
                continue
            a = fa.get_tensor(name).astype(np.float32).ravel()
            b = fb.get_tensor(name).astype(np.float32).ravel()
            if a.shape != b.shape:
                continue
            denominator = float(np.sqrt(np.dot(a, a) * np.dot(b, b)))
            cosines[name] = float(np.dot(a, b)) / denominator if denominator > 0 else float("nan")
    print("%.3f %d" % (time.perf_counter() - start, len(cosines)))


if __name__ == "__main__":
    main()
