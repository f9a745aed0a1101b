"""Inference backends behind one small Protocol."""
