"""Small training loops shared by the notebooks, the book and the tests."""
import numpy as np
import torch
from torch import nn


def fit_classifier(model, x, y, epochs=10, lr=1e-2, batch_size=64, seed=0):
    """Train a classifier with Adam and cross-entropy on minibatches; return per-epoch mean loss.

    model: maps x (B, T, D) float32 to logits (B, C).
    x: (N, T, D) float32 array or tensor; y: (N,) int64 labels.
    """
    x, y = torch.as_tensor(x), torch.as_tensor(y)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    history = []
    model.train()
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=generator)
        losses = []
        for start in range(0, len(y), batch_size):
            batch = order[start:start + batch_size]
            loss = loss_fn(model(x[batch]), y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        history.append(float(np.mean(losses)))
    return history


@torch.no_grad()
def accuracy(model, x, y):
    """Fraction of rows of x whose arg-max logit is the label y."""
    model.eval()
    logits = model(torch.as_tensor(x))
    return float((logits.argmax(dim=1) == torch.as_tensor(y)).float().mean())
