"""Plausible wrong answers for solutions/07-attention/attention_decoder.ipynb (see attention_numpy.py)."""

DECODER = '''
class AttentionDecoder(nn.Module):
    def __init__(self, vocab_size, hidden_size):
        super().__init__()
        H = hidden_size
        self.embedding = nn.Embedding(vocab_size, H)
        self.Wq = nn.Linear(H, H, bias=False)
        self.Wk = nn.Linear(H, H, bias=False)
        self.v = nn.Linear(H, 1, bias=False)
        self.cell = nn.GRUCell(2 * H, H)
        self.out = nn.Linear(2 * H, vocab_size)

    def forward(self, encoder_outputs, h0, targets_in, src_mask=None):
        keys = self.Wk(encoder_outputs)
        s, logits, weights = h0, [], []
        for t in range(targets_in.shape[1]):
            scores = self.v(torch.tanh(keys + self.Wq(s)[:, None, :])).squeeze(-1)
            if src_mask is not None:
                scores = {masking}
            alpha = {alpha}
            context = {context}
            s = self.cell(torch.cat([self.embedding({token}), context], dim=1), s)
            logits.append({logits})
            weights.append(alpha)
        return torch.stack(logits, dim=1), torch.stack(weights, dim={attention_dim})
'''


def decoder(masking='scores.masked_fill(~src_mask, float("-inf"))', alpha="torch.softmax(scores, dim=1)",
            context="(alpha[:, :, None] * encoder_outputs).sum(dim=1)", token="targets_in[:, t]",
            logits="self.out(torch.cat([s, context], dim=1))", attention_dim=1):
    return DECODER.format(masking=masking, alpha=alpha, context=context, token=token, logits=logits,
                          attention_dim=attention_dim)


MUTANTS = [
    dict(grade_id="AttentionDecoder", name="mask ignored", expect="on padded source positions",
         source=decoder(masking="scores")),
    dict(grade_id="AttentionDecoder", name="softmax over the batch", expect="over the batch axis",
         source=decoder(alpha="torch.softmax(scores, dim=0)")),
    dict(grade_id="AttentionDecoder", name="mask inverted", expect="mask is inverted",
         source=decoder(masking="scores.masked_fill(src_mask, -1e9)")),
    dict(grade_id="AttentionDecoder", name="attention stacked on the wrong axis", expect="the transpose of (N, T, S)",
         source=decoder(attention_dim=2)),
    dict(grade_id="AttentionDecoder", name="context ignores the weights", expect="gets no gradient",
         source=decoder(context="encoder_outputs.mean(dim=1)")),
    dict(grade_id="AttentionDecoder", name="mask after the softmax", expect="applied after the softmax",
         source=decoder(masking="scores", alpha="torch.softmax(scores, dim=1) * (1 if src_mask is None else src_mask)")),
    dict(grade_id="AttentionDecoder", name="looks ahead", expect="Do not look ahead",
         source=decoder(token="targets_in[:, min(t + 1, targets_in.shape[1] - 1)]")),
    dict(grade_id="AttentionDecoder", name="returns probabilities", expect="returns probabilities",
         source=decoder(logits="torch.softmax(self.out(torch.cat([s, context], dim=1)), dim=1)")),
    dict(grade_id="AttentionDecoder", name="context detached", expect="gets no gradient",
         source=decoder(context="(alpha[:, :, None] * encoder_outputs).sum(dim=1).detach()")),
]
