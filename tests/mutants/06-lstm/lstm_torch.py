"""Plausible wrong answers for solutions/06-lstm/lstm_torch.ipynb (see lstm_numpy.py)."""

MYLSTM = '''
class MyLSTM(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        k = 1 / math.sqrt(hidden_size)
        self.weight_ih_l0 = nn.Parameter(torch.empty(4 * hidden_size, input_size).uniform_(-k, k))
        self.weight_hh_l0 = nn.Parameter(torch.empty(4 * hidden_size, hidden_size).uniform_(-k, k))
        self.bias_ih_l0 = nn.Parameter(torch.empty(4 * hidden_size).uniform_(-k, k))
        self.bias_hh_l0 = nn.Parameter(torch.empty(4 * hidden_size).uniform_(-k, k))

    def forward(self, x, state=None):
        N, T, _ = x.shape
        if state is None:
            h = c = torch.zeros(N, self.hidden_size)
        else:
            h, c = {state}
        outputs = []
        for t in range(T):
            a = {pre}
            {gates} = a.chunk(4, dim=1)
            c = {cell}
            h = {hidden}
            outputs.append(h)
        return torch.stack(outputs, 1), {last}
'''

PRE = "x[:, t] @ self.weight_ih_l0.T + self.bias_ih_l0 + h @ self.weight_hh_l0.T + self.bias_hh_l0"


def mylstm(state="state", pre=PRE, gates="i, f, g, o",
           cell="torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)",
           hidden="torch.sigmoid(o) * torch.tanh(c)", last="(h, c)"):
    return MYLSTM.format(state=state, pre=pre, gates=gates, cell=cell, hidden=hidden, last=last)


GRU = '''
class MyGRUCell(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        k = 1 / math.sqrt(hidden_size)
        self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size).uniform_(-k, k))
        self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size).uniform_(-k, k))
        self.bias_ih = nn.Parameter(torch.empty(3 * hidden_size).uniform_(-k, k))
        self.bias_hh = nn.Parameter(torch.empty(3 * hidden_size).uniform_(-k, k))

    def forward(self, x, h=None):
        if h is None:
            h = torch.zeros(x.shape[0], self.hidden_size)
        H = self.hidden_size
        {xs} = (x @ self.weight_ih.T + self.bias_ih).chunk(3, dim=1)
        {hs} = (h @ self.weight_hh.T + self.bias_hh).chunk(3, dim=1)
        r = torch.sigmoid(x_r + h_r)
        z = torch.sigmoid(x_z + h_z)
        n = {n}
        return {out}
'''


def gru(xs="x_r, x_z, x_n", hs="h_r, h_z, h_n", n="torch.tanh(x_n + r * h_n)", out="(1 - z) * n + z * h"):
    return GRU.format(xs=xs, hs=hs, n=n, out=out)


MUTANTS = [
    dict(grade_id="MyLSTM", name="gates i, f, o, g", expect="not i, f, o, g", source=mylstm(gates="i, f, o, g")),
    dict(grade_id="MyLSTM", name="gates f, i, g, o", expect="the next H to the forget gate",
         source=mylstm(gates="f, i, g, o")),
    dict(grade_id="MyLSTM", name="h = o * c", expect="tanh is missing in h",
         source=mylstm(hidden="torch.sigmoid(o) * c")),
    dict(grade_id="MyLSTM", name="no forget gate", expect="the forget gate is missing",
         source=mylstm(cell="c + torch.sigmoid(i) * torch.tanh(g)")),
    dict(grade_id="MyLSTM", name="sigmoid on g", expect="g uses tanh",
         source=mylstm(cell="torch.sigmoid(f) * c + torch.sigmoid(i) * torch.sigmoid(g)")),
    dict(grade_id="MyLSTM", name="one bias only", expect="bias_hh_l0 is not added",
         source=mylstm(pre=PRE.replace(" + self.bias_hh_l0", ""))),
    dict(grade_id="MyLSTM", name="state ignored", expect="the given state is ignored",
         source=mylstm(state="torch.zeros(N, self.hidden_size), torch.zeros(N, self.hidden_size)")),
    dict(grade_id="MyLSTM", name="returns (c, h)", expect="h_T and c_T are swapped", source=mylstm(last="(c, h)")),
    dict(grade_id="MyLSTM", name="layer axis kept", expect="without torch.nn.LSTM's layer axis",
         source=mylstm(last="(h[None], c[None])")),
    dict(grade_id="MyLSTM", name="weight_hh not transposed", expect="shapes do not line up",
         source=mylstm(pre=PRE.replace("self.weight_hh_l0.T", "self.weight_hh_l0"))),
    dict(grade_id="MyLSTM", name="plain tensors", expect="has no parameters",
         source=mylstm().replace("nn.Parameter(", "(")),
    dict(grade_id="MyGRUCell", name="r outside the bias", expect="reset gate is applied outside the bias",
         source=gru(n="torch.tanh(x_n + r * (h @ self.weight_hh[2 * H:].T) + self.bias_hh[2 * H:])")),
    dict(grade_id="MyGRUCell", name="z swapped", expect="z is used the wrong way round",
         source=gru(out="z * n + (1 - z) * h")),
    dict(grade_id="MyGRUCell", name="gate order z, r, n", expect="PyTorch's order is r, z, n",
         source=gru(xs="x_z, x_r, x_n", hs="h_z, h_r, h_n")),
    dict(grade_id="MyGRUCell", name="no reset gate", expect="reset gate r is not used",
         source=gru(n="torch.tanh(x_n + h_n)")),
    dict(grade_id="MyGRUCell", name="h ignored", expect="the given h is ignored",
         source=gru().replace("if h is None:", "if True:")),
    dict(grade_id="MyGRUCell", name="plain tensors", expect="has no parameters",
         source=gru().replace("nn.Parameter(", "(")),
    # initialisation as specified: the distribution, not only the bounds
    dict(grade_id="MyLSTM", name="init normal and narrow", expect="standard deviation",
         source=mylstm().replace("self.bias_hh_l0 = nn.Parameter(torch.empty(4 * hidden_size).uniform_(-k, k))",
                                 "self.bias_hh_l0 = nn.Parameter(torch.empty(4 * hidden_size).normal_(0, k / 10))")),
    dict(grade_id="MyGRUCell", name="init in a third of the range", expect="standard deviation",
         source=gru().replace("self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size).uniform_(-k, k))",
                              "self.weight_hh = nn.Parameter(torch.empty(3 * hidden_size, hidden_size).uniform_(-k / 3, k / 3))")),
    dict(grade_id="MyGRUCell", name="init of one sign", expect="one sign only",
         source=gru().replace("self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size).uniform_(-k, k))",
                              "self.weight_ih = nn.Parameter(torch.empty(3 * hidden_size, input_size).uniform_(0, k))")),
]


