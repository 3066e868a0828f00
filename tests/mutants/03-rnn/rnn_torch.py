"""Plausible wrong answers for solutions/03-rnn/rnn_torch.ipynb (see rnn_numpy.py)."""

MYRNN = '''
class MyRNN(nn.Module):
    def __init__(self, input_size, hidden_size, nonlinearity="tanh"):
        super().__init__()
        self.hidden_size, self.nonlinearity = hidden_size, nonlinearity
        k = 1 / math.sqrt(hidden_size)
        self.weight_ih_l0 = nn.Parameter(torch.empty(hidden_size, input_size).uniform_(-k, k))
        self.weight_hh_l0 = nn.Parameter(torch.empty(hidden_size, hidden_size).uniform_(-k, k))
        self.bias_ih_l0 = nn.Parameter(torch.empty(hidden_size).uniform_(-k, k))
        self.bias_hh_l0 = nn.Parameter(torch.empty(hidden_size).uniform_(-k, k))
        {extra_init}

    def forward(self, x, h0=None):
        N, T, _ = x.shape
        h = torch.zeros(N, self.hidden_size) if h0 is None else h0
        act = torch.tanh if self.nonlinearity == "tanh" else torch.relu
        outputs = []
        for t in range(T):
            h = {step}
            outputs.append(h)
        return torch.stack(outputs, 1), {last}
'''

CORRECT_STEP = "act(x[:, t] @ self.weight_ih_l0.T + self.bias_ih_l0 + h @ self.weight_hh_l0.T + self.bias_hh_l0)"


def myrnn(step=CORRECT_STEP, last="h", extra_init=""):
    return MYRNN.format(step=step, last=last, extra_init=extra_init)


IDENTITY = '''
def identity_init_(rnn):
    with torch.no_grad():
        {body}
'''

CLASSIFIER = '''
class RowByRowClassifier(nn.Module):
    def __init__(self, input_size, hidden_size, num_classes):
        super().__init__()
        self.rnn = MyRNN(input_size, hidden_size)
        self.head = nn.Linear(hidden_size, num_classes)

    def forward(self, images):
        output, h_T = self.rnn(images)
        return {logits}
'''

MUTANTS = [
    dict(grade_id="MyRNN", name="one bias only", expect="bias_hh_l0 is not added",
         source=myrnn(step=CORRECT_STEP.replace(" + self.bias_hh_l0", ""))),
    dict(grade_id="MyRNN", name="weight_hh not transposed", expect="weight_hh_l0 is used transposed",
         source=myrnn(step=CORRECT_STEP.replace("self.weight_hh_l0.T", "self.weight_hh_l0"))),
    dict(grade_id="MyRNN", name="weight_ih not transposed", expect="shapes do not line up",
         source=myrnn(step=CORRECT_STEP.replace("self.weight_ih_l0.T", "self.weight_ih_l0"))),
    dict(grade_id="MyRNN", name="h_T is the first state", expect="state after the LAST step",
         source=myrnn(last="outputs[0]")),
    dict(grade_id="MyRNN", name="h0 ignored", expect="h0 is ignored",
         source=myrnn().replace("if h0 is None else h0", "")),
    dict(grade_id="MyRNN", name="always tanh", expect="built with nonlinearity='relu'",
         source=myrnn().replace('if self.nonlinearity == "tanh" else torch.relu', "")),
    dict(grade_id="MyRNN", name="plain tensors, not parameters", expect="has no parameters",
         source=myrnn().replace("nn.Parameter(", "(")),
    dict(grade_id="MyRNN", name="own parameter names", expect="no parameter named weight_ih_l0",
         source=myrnn().replace("self.weight_ih_l0", "self.W_ih")),
    dict(grade_id="MyRNN", name="h_T with a layer axis", expect="without torch.nn.RNN's layer axis",
         source=myrnn(last="h[None]")),
    dict(grade_id="MyRNN", name="detached output", expect="does not require grad",
         source=myrnn(last="h").replace("torch.stack(outputs, 1)", "torch.stack(outputs, 1).detach()")),
    dict(grade_id="identity_init_", name="biases left", expect="set both biases to zero",
         source=IDENTITY.format(body="rnn.weight_hh_l0.copy_(torch.eye(rnn.weight_hh_l0.shape[0]))")),
    dict(grade_id="identity_init_", name="input weight zeroed too", expect="weight_ih_l0 must keep its values",
         source=IDENTITY.format(body="rnn.weight_hh_l0.copy_(torch.eye(rnn.weight_hh_l0.shape[0])); "
                                     "rnn.bias_ih_l0.zero_(); rnn.bias_hh_l0.zero_(); rnn.weight_ih_l0.zero_()")),
    dict(grade_id="identity_init_", name="new parameter objects", expect="replaced rnn.weight_hh_l0",
         source="def identity_init_(rnn):\n"
                "    rnn.weight_hh_l0 = nn.Parameter(torch.eye(rnn.weight_hh_l0.shape[0]))\n"
                "    rnn.bias_ih_l0 = nn.Parameter(torch.zeros(rnn.weight_hh_l0.shape[0]))\n"
                "    rnn.bias_hh_l0 = nn.Parameter(torch.zeros(rnn.weight_hh_l0.shape[0]))\n"),
    dict(grade_id="identity_init_", name="only bias_ih zeroed", expect="bias_hh_l0 was left unchanged",
         source=IDENTITY.format(body="rnn.weight_hh_l0.copy_(torch.eye(rnn.weight_hh_l0.shape[0])); "
                                     "rnn.bias_ih_l0.zero_()")),
    dict(grade_id="RowByRowClassifier", name="first step's state", expect="do not change when the last row changes",
         source=CLASSIFIER.format(logits="self.head(output[:, 0])")),
    dict(grade_id="RowByRowClassifier", name="softmax output", expect="returns probabilities",
         source=CLASSIFIER.format(logits="torch.softmax(self.head(h_T), dim=1)")),
    dict(grade_id="RowByRowClassifier", name="returns the hidden state", expect="logits",
         source=CLASSIFIER.format(logits="h_T")),
    dict(grade_id="RowByRowClassifier", name="order ignored: mean over rows", expect="ignores",
         source=CLASSIFIER.format(logits="self.head(images.mean(1) @ torch.ones(images.shape[2], self.head.in_features))")),
    dict(grade_id="RowByRowClassifier", name="mean over the steps' outputs", expect="classifies from the hidden state after the LAST step",
         source=CLASSIFIER.format(logits="self.head(output.mean(1))")),
    dict(grade_id="RowByRowClassifier", name="max over the steps' outputs", expect="pools over the steps",
         source=CLASSIFIER.format(logits="self.head(output.amax(1))")),
    # initialisation as specified: the distribution, not only the bounds
    dict(grade_id="MyRNN", name="init of one sign", expect="one sign only",
         source=myrnn(extra_init="self.weight_hh_l0.data.uniform_(0, k)")),
    dict(grade_id="MyRNN", name="init normal and narrow", expect="standard deviation",
         source=myrnn(extra_init="self.weight_hh_l0.data.normal_(0, 0.01)")),
]

# A wrong answer to one exercise that another exercise uses: the test of `tested` must name the
# function at fault (`culprit`), not blame `tested` (tests/test_mutants.py).
ATTRIBUTIONS = [
    dict(grade_id="MyRNN", name="h_T is the first state", tested="RowByRowClassifier",
         source=myrnn(last="outputs[0]")),
]
