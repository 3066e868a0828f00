"""Plausible wrong answers for solutions/07-attention/beam_search.ipynb.

Each mutant replaces the answer cell; `expect` is text the failing test's message must contain.
"""

BEAM = '''
def beam_search(step_fn, start_state, bos, eos, beam_size, max_len):
    rank = {rank}
    beam = [({start}, [], start_state)]
    best_finished = None
    for _ in range(max_len):
        candidates = []
        for score, tokens, state in beam:
            if {finished}:
                candidates.append((score, tokens, state))
                continue
            log_probs, new_state = step_fn(state, tokens[-1] if tokens else bos)
            for token in range(len(log_probs)):
                candidates.append(({combine}, tokens + [token], new_state))
        beam = sorted(candidates, key=rank)[:beam_size]
        for hypothesis in beam:
            if {ended} and (best_finished is None or rank(hypothesis) < rank(best_finished)):
                best_finished = hypothesis
        if all({ended_all} for _, tokens, _ in beam):
            break
    score, tokens, _ = best_finished if best_finished is not None else beam[0]
    return tokens, score
'''


def beam(rank="lambda h: (-h[0], h[1])", start="0.0", finished="tokens and tokens[-1] == eos",
         combine="score + float(log_probs[token])", ended="hypothesis[1][-1] == eos",
         ended_all="tokens[-1] == eos"):
    return BEAM.format(rank=rank, start=start, finished=finished, combine=combine, ended=ended,
                       ended_all=ended_all)


MUTANTS = [
    dict(grade_id="beam_search", name="probabilities multiplied", expect="the probabilities are multiplied",
         source=beam(start="1.0", combine="score * float(np.exp(log_probs[token]))")),
    dict(grade_id="beam_search", name="log-probabilities multiplied", expect="log-probabilities are multiplied",
         source=beam(start="1.0", combine="score * float(log_probs[token])")),
    dict(grade_id="beam_search", name="finished hypotheses kept expanding", expect="kept expanding",
         source=beam(finished="False")),
    dict(grade_id="beam_search", name="eos never ends a hypothesis", expect="eos never ends a hypothesis",
         source=beam(finished="False", ended="False", ended_all="False")),
    dict(grade_id="beam_search", name="ties to the higher token id", expect="ties are broken towards the higher",
         source=beam(rank="lambda h: (-h[0], [-t for t in h[1]])")),
    dict(grade_id="beam_search", name="ties by a reversed sort", expect="ties are broken towards the higher",
         source=beam(rank="lambda h: (h[0], h[1])").replace("sorted(candidates, key=rank)",
                                                            "sorted(candidates, key=rank, reverse=True)")
         .replace("rank(hypothesis) < rank(best_finished)", "rank(hypothesis) > rank(best_finished)")),
    dict(grade_id="beam_search", name="tokens include bos", expect="exclude bos",
         source=beam().replace("return tokens, score", "return [bos] + tokens, score")),
    dict(grade_id="beam_search", name="best of the final beam only", expect="expected",
         source=beam().replace("best_finished if best_finished is not None else beam[0]", "beam[0]")),
]
