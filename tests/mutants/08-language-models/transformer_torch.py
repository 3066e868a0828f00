"""Plausible wrong answers for solutions/08-language-models/transformer_torch.ipynb.

Each mutant replaces one answer cell; `expect` is text the failing test's message must contain.
"""

MASK = '''
def causal_mask(T):
    return {body}
'''

POSITIONS = '''
def sinusoidal_positions(T, D):
    t = torch.arange(T, dtype=torch.float32)[:, None]
    rates = 10000.0 ** (-{exponent} / D)
    pe = torch.zeros(T, D)
    pe[:, 0::2] = torch.{even}(t * rates)
    pe[:, 1::2] = torch.{odd}(t * rates)
    return pe
'''


def positions(exponent="torch.arange(0, D, 2, dtype=torch.float32)", even="sin", odd="cos"):
    return POSITIONS.format(exponent=exponent, even=even, odd=odd)


ATTENTION = '''
class MultiHeadSelfAttention(nn.Module):
    def __init__(self, d_model, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.in_proj_weight = nn.Parameter(nn.init.xavier_uniform_(torch.empty(3 * d_model, d_model)))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * d_model))
        self.out_proj = nn.Linear(d_model, d_model)

    def forward(self, x, mask=None):
        N, T, d = x.shape
        d_k = d // self.num_heads
        q, k, v = F.linear(x, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
        q, k, v = ({split} for z in (q, k, v))
        scores = q @ k.transpose(-2, -1) / {scale}
        if mask is not None:
            scores = scores.masked_fill({blocked}, float("-inf"))
        heads = torch.softmax(scores, dim=-1) @ v
        return {out}
'''


def attention(split="z.view(N, T, self.num_heads, d_k).transpose(1, 2)", scale="math.sqrt(d_k)",
              blocked="~mask", out="self.out_proj(heads.transpose(1, 2).reshape(N, T, d))"):
    return ATTENTION.format(split=split, scale=scale, blocked=blocked, out=out)


MUTANTS = [
    dict(grade_id="causal_mask", name="inverted", expect="the mask is inverted",
         source=MASK.format(body="torch.ones(T, T, dtype=torch.bool).triu(1)")),
    dict(grade_id="causal_mask", name="no diagonal", expect="the diagonal is missing",
         source=MASK.format(body="torch.ones(T, T, dtype=torch.bool).tril(-1)")),
    dict(grade_id="causal_mask", name="transposed", expect="the mask is transposed",
         source=MASK.format(body="torch.ones(T, T, dtype=torch.bool).triu()")),
    dict(grade_id="causal_mask", name="float mask", expect="return a bool tensor",
         source=MASK.format(body="torch.ones(T, T).tril()")),
    dict(grade_id="sinusoidal_positions", name="sin and cos swapped", expect="sin and cos are swapped",
         source=positions(even="cos", odd="sin")),
    dict(grade_id="sinusoidal_positions", name="exponent i/D", expect="the exponent is i/D",
         source=positions(exponent="torch.arange(0, D // 2, dtype=torch.float32)")),
    dict(grade_id="sinusoidal_positions", name="multiplied", expect="t is multiplied by 10000^(2i/D)",
         source=positions(exponent="-torch.arange(0, D, 2, dtype=torch.float32)")),
    dict(grade_id="sinusoidal_positions", name="halves", expect="in two halves",
         source='''
def sinusoidal_positions(T, D):
    t = torch.arange(T, dtype=torch.float32)[:, None]
    rates = 10000.0 ** (-torch.arange(0, D, 2, dtype=torch.float32) / D)
    return torch.cat([torch.sin(t * rates), torch.cos(t * rates)], dim=1)
'''),
    dict(grade_id="MultiHeadSelfAttention", name="mask inverted", expect="the mask is inverted",
         source=attention(blocked="mask")),
    dict(grade_id="MultiHeadSelfAttention", name="no scaling", expect="the scores are not scaled",
         source=attention(scale="1.0")),
    dict(grade_id="MultiHeadSelfAttention", name="sqrt(d_model)", expect="divided by sqrt(d_model)",
         source=attention(scale="math.sqrt(d)")),
    dict(grade_id="MultiHeadSelfAttention", name="heads split wrongly", expect="the heads are split wrongly",
         source=attention(split="z.reshape(N, self.num_heads, T, d_k)",
                          out="self.out_proj(heads.reshape(N, T, d))")),
    dict(grade_id="MultiHeadSelfAttention", name="no out_proj", expect="out_proj is not applied",
         source=attention(out="heads.transpose(1, 2).reshape(N, T, d)")),
]
