"""Helpers of the RNN course.

checks: what every notebook test uses (calling student code, comparing values, gradient checks).
chNN: one module per chapter: its references (PyTorch, finite differences), the known mistakes
    its tests recognise, and checks of its PyTorch exercises.
data: the shipped data sets. training: small training loops. feedback: an nbgrader preprocessor.
"""
