"""The live inference core: ONNX models on LSL streams, latency traced per stage."""
