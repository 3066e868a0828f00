"""The screen tells the course's helpers (fine) from its reference implementations (flagged)."""
import screen
from conftest import ROOT, harness

NOTEBOOK = "07-attention/attention_decoder.ipynb"


def submission_with(*student_cells):
    """The solution of attention_decoder with student cells (plain code cells) added at the end."""
    nb = harness.load(ROOT / "solutions" / NOTEBOOK)
    for source in student_cells:
        nb["cells"].append({"cell_type": "code", "metadata": {}, "source": source, "outputs": [],
                            "execution_count": None})
    return nb


def flags(nb):
    trusted = screen.trusted_sources(harness.load(ROOT / "exercises" / NOTEBOOK),
                                     harness.load(ROOT / "solutions" / NOTEBOOK))
    return screen.suspicious(nb, trusted)


def test_a_submission_that_follows_the_instructions_is_not_flagged():
    following = ("batch = seq2seq.reversal_data(4, 2, 7, seed=1)\n"
                 "encoder = seq2seq.Encoder(seq2seq.VOCAB, 16)\n"
                 "outputs, h = encoder(batch['src'], batch['src_mask'])\n"
                 "pad = batch['src'] == seq2seq.PAD\n"
                 "losses = seq2seq.train_seq2seq(encoder, AttentionDecoder(seq2seq.VOCAB, 16), steps=2)\n"
                 "print(seq2seq.greedy_decode, seq2seq.accuracy_by_length, ch07.TRAIN_STEPS)\n")
    rerun_test = "ch07.check_AttentionDecoder(AttentionDecoder, V=12, H=8, N=3, S=5, T=4, seed=0)\n"
    assert flags(submission_with(following, rerun_test)) == []


def test_calling_a_reference_implementation_is_flagged():
    reason = "calls the course's reference implementations (rnncourse.chNN)"
    for cell in ("AttentionDecoder = ch07.BahdanauDecoder\n",
                 "weights = ch07.reference_softmax(scores)\n",
                 "from rnncourse.ch07 import reference_additive_attention as additive_attention\n",
                 "import rnncourse\nout = rnncourse.ch07.reference_scaled_dot_product_attention(q, k, v)\n",
                 "hints = ch07.softmax_mistakes(x)\n"):
        assert reason in flags(submission_with(cell)), cell


def test_replacing_a_check_is_flagged():
    assert "assigns ch07.check_AttentionDecoder" in flags(
        submission_with("ch07.check_AttentionDecoder = lambda *args, **kwargs: None\n"))
