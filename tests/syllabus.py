"""The course's exercise API: what each student answer cell must define.

The names and arguments are a contract with students (the chapter pages and the exercise
notebooks describe them) and with graders (hidden tests call them): a change here is a change of
the course. For a function: its argument names. For a class: the argument names of __init__ and
of forward. None: the cell defines no function (a concept check that assigns answer variables),
or the exercise states a contract of its own that its tests check (AttentionDecoder, 7.2).
"""

SIGNATURES = {
    # 01-before-rnns
    "bag_of_words": ["tokens", "vocab"],
    "fixed_window_features": ["token_ids", "k", "V"],
    "ngram_log_likelihood": ["train_ids", "test_ids", "n", "V", "alpha"],
    # 02-design-criteria
    "pad_sequences": ["seqs", "pad_value"],
    "sequence_mask": ["lengths", "T"],
    "masked_mean": ["x", "lengths"],
    "concept_check": None,
    "last_valid_state": ["outputs", "lengths"],
    "pack_by_hand": ["x", "lengths"],
    # 03-rnn
    "rnn_step_forward": ["x", "prev_h", "Wx", "Wh", "b"],
    "rnn_forward": ["x", "h0", "Wx", "Wh", "b"],
    "MyRNN": (["self", "input_size", "hidden_size", "nonlinearity"], ["self", "x", "h0"]),
    "identity_init_": ["rnn"],
    "RowByRowClassifier": (["self", "input_size", "hidden_size", "num_classes"], ["self", "images"]),
    # 04-bptt
    "rnn_step_backward": ["dnext_h", "cache"],
    "rnn_backward": ["dh", "cache"],
    "softmax_cross_entropy": ["logits", "targets"],
    "tbptt_chunks": ["ids", "seq_length"],
    "train_tbptt": ["model", "ids", "seq_length", "steps", "lr"],
    "sample": ["model", "start_ids", "n", "temperature"],
    # 05-gradients
    "hidden_jacobian_norms": ["Wh", "h"],
    "clip_grad_norm": ["grads", "max_norm"],
    "clip_grad_value": ["grads", "clip_value"],
    # 06-lstm
    "lstm_step_forward": ["x", "prev_h", "prev_c", "Wx", "Wh", "b"],
    "lstm_forward": ["x", "h0", "Wx", "Wh", "b"],
    "lstm_step_backward": ["dnext_h", "dnext_c", "cache"],
    "lstm_backward": ["dh", "cache"],
    "MyLSTM": (["self", "input_size", "hidden_size"], ["self", "x", "state"]),
    "MyGRUCell": (["self", "input_size", "hidden_size"], ["self", "x", "h"]),
    "MyBiGRU": (["self", "input_size", "hidden_size", "num_layers"], ["self", "x", "h0"]),
    # 07-attention
    "softmax": ["x", "axis"],
    "scaled_dot_product_attention": ["q", "k", "v", "mask"],
    "additive_attention": ["query", "keys", "Wq", "Wk", "v", "mask"],
    "AttentionDecoder": None,
    "beam_search": ["step_fn", "start_state", "bos", "eos", "beam_size", "max_len"],
    # 08-language-models
    "embedding_forward": ["ids", "W"],
    "embedding_backward": ["dout", "cache"],
    "temporal_affine_forward": ["h", "W", "b"],
    "temporal_affine_backward": ["dout", "cache"],
    "temporal_softmax_loss": ["scores", "targets", "mask"],
    "causal_mask": ["T"],
    "sinusoidal_positions": ["T", "D"],
    "MultiHeadSelfAttention": (["self", "d_model", "num_heads"], ["self", "x", "mask"]),
}
