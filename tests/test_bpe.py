"""Byte-level BPE (refmodels/nlp/bpe.py) against hand-computed merges and against
Hugging Face ``tokenizers``.

The tokenization page shows merges, ids, segmentations and compression ratios computed
by ``ByteBPE``; these tests guard what it claims: the merges of a tiny corpus worked out
by hand, the tie-breaking rule, identical merges, vocabulary and ids to ``tokenizers``
on Python's own help texts, a lossless round trip for any Unicode text, and ValueErrors
on bad input.
"""

import os
import subprocess
import sys
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from refmodels.nlp.bpe import (
    BYTE_ORDER,
    GPT2_PATTERN,
    ByteBPE,
    best_pair,
    byte_symbols,
    count_pairs,
    from_tokenizers,
    load_pydoc_text,
    merge_pair,
    pretokenize,
)

# Sennrich et al.'s example words with their counts, written as running text:
# pre-tokens "low" x1, " low" x4, " lower" x2, " newest" x6, " widest" x3.
TINY = "low low low low low lower lower newest newest newest newest newest newest widest widest widest"
# The first nine merges, by hand. Base ids follow GPT-2's byte order: e=68, s=82, t=83,
# l=75, o=78, w=86, n=77, i=72, d=67, r=81 and the space (shown as " ") = 220.
# 1. pair counts: e s 9 (newest 6 + widest 3), s t 9, w e 8, l o 7, o w 7, ...
#    e s and s t tie at 9; (68, 82) < (82, 83), so "es" wins (id 256).
# 2. "es" t 9 -> "est" (257).
# 3. l o 7 and o w 7 tie; (75, 78) < (78, 86) -> "lo" (258).
# 4. "lo" w 7 -> "low" (259).
# 5. five pairs tie at 6: " "+low (220, 259), " "+n (220, 77), n e (77, 68),
#    e w (68, 86), w est (86, 257); the smallest is e w -> "ew" (260).
# 6. tie at 6: " " low, " " n, n ew (77, 260), ew est (260, 257) -> "new" (261).
# 7. tie at 6: " " low (220, 259), " " new (220, 261), new est (261, 257) -> " low" (262).
# 8. tie at 6: " " new (220, 261), new est (261, 257) -> " new" (263).
# 9. " new" est 6 -> " newest" (264).
# 10. left: " " w, w i, i d, d est (3 each, all from widest), " low" e, e r (2 each);
#     the smallest of the tied ids is (67, 257): d est -> "dest" (265).
# 11. " " w (220, 86), w i (86, 72), i dest (72, 265) tie at 3 -> "idest" (266).
TINY_MERGES = [b"es", b"est", b"lo", b"low", b"ew", b"new", b" low", b" new", b" newest", b"dest", b"idest"]
TINY_COUNTS = [9, 9, 7, 7, 6, 6, 6, 6, 6, 3, 3]

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "def f(x):\n    return x ** 2  # squares\n",
    "Ünïcödé, 日本語, emoji 🙂🚀 and a combining e\u0301.",
]


def hf_bpe(text, vocab_size, **kwargs):
    """tokenizers' byte-level BPE trained on ``text``, set up as the page does."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
        **kwargs,
    )
    tok.train_from_iterator([text], trainer)
    return tok


def hf_merges(tok):
    """tokenizers' merges as byte strings (its symbols mapped back to bytes)."""
    import json

    to_byte = {s: b for b, s in byte_symbols().items()}
    merges = json.loads(tok.to_str())["model"]["merges"]
    pairs = [m.split(" ") if isinstance(m, str) else m for m in merges]
    return [(bytes(to_byte[c] for c in a), bytes(to_byte[c] for c in b)) for a, b in pairs]


def our_merges(bpe):
    return [(bpe.vocab[a], bpe.vocab[b]) for a, b in bpe.merges]


@pytest.fixture(scope="module")
def pydoc():
    return load_pydoc_text()


@pytest.fixture(scope="module")
def trained(pydoc):
    return ByteBPE.train(pydoc, 1000)


@pytest.fixture(scope="module")
def hf_trained(pydoc):
    return hf_bpe(pydoc, 1000)


# -- the algorithm on a corpus small enough to check by hand ----------------------------
def test_pretokens_of_tiny_corpus():
    words = pretokenize(TINY)
    assert "".join(words) == TINY
    assert {w: words.count(w) for w in set(words)} == {"low": 1, " low": 4, " lower": 2, " newest": 6, " widest": 3}


def test_tiny_corpus_merges_by_hand():
    bpe = ByteBPE.train(TINY, 256 + len(TINY_MERGES))
    assert [bpe.vocab[i] for i in range(256, len(bpe))] == TINY_MERGES
    assert bpe.merge_counts == TINY_COUNTS
    assert [bpe.vocab[a] + bpe.vocab[b] for a, b in bpe.merges] == TINY_MERGES
    assert bpe.tokens(" newest widest lowest") == [b" newest", b" ", b"w", b"idest", b" low", b"est"]


def test_tiny_corpus_matches_tokenizers():
    bpe = ByteBPE.train(TINY, 256 + len(TINY_MERGES))
    assert hf_merges(hf_bpe(TINY, 256 + len(TINY_MERGES))) == our_merges(bpe)


def test_tie_break_follows_byte_ids():
    """Merge 5 is a five-way tie: with the bytes' own values as ids the space (32) is the
    smallest id, so " n" (32, 110) beats "ew" (101, 119)."""
    natural = ByteBPE.train(TINY, 261, byte_order=tuple(range(256)))
    assert [natural.vocab[i] for i in range(256, 261)] == [b"es", b"est", b"lo", b"low", b" n"]
    assert natural.merge_counts == TINY_COUNTS[:5]


def test_count_and_merge_helpers():
    assert count_pairs([[1, 2, 3], [2, 3]], [2, 5]) == {(1, 2): 2, (2, 3): 7}
    assert merge_pair([1, 1, 1, 1], (1, 1), 9) == [9, 9]
    assert merge_pair([1, 2, 1, 2, 3], (2, 3), 9) == [1, 2, 1, 9]


def test_gpt2_byte_order_and_symbols():
    assert BYTE_ORDER[0] == ord("!") and BYTE_ORDER.index(ord(" ")) == 220 and BYTE_ORDER.index(ord("\n")) == 198
    sym = byte_symbols()
    assert len(set(sym.values())) == 256
    # tokenizers' base vocabulary: its 256 byte symbols sorted by code point = our ids
    assert sorted(pre_tokenizers.ByteLevel.alphabet()) == [sym[b] for b in BYTE_ORDER]


# -- determinism -----------------------------------------------------------------------
def test_training_is_deterministic(pydoc):
    text = pydoc[:60_000]
    first, second = ByteBPE.train(text, 600), ByteBPE.train(text, 600)
    assert first.merges == second.merges and first.vocab == second.vocab
    assert first.merge_counts == second.merge_counts


def test_training_does_not_depend_on_hash_seed(pydoc):
    """Same merges under other string-hash seeds (bpe.py loaded alone, without torch)."""
    import refmodels.nlp.bpe as bpe_module

    code = (
        "import importlib.util, sys; spec = importlib.util.spec_from_file_location('bpe', sys.argv[1]);"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m);"
        "print(m.ByteBPE.train(m.load_pydoc_text()[:20000], 400).merges)"
    )
    expected = str(ByteBPE.train(pydoc[:20000], 400).merges)
    for seed in ("1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", code, bpe_module.__file__], env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip() == expected


def test_truncated_equals_training_with_smaller_vocab(pydoc, trained):
    small = ByteBPE.train(pydoc, 500)
    cut = trained.truncated(500)
    assert cut.vocab == small.vocab and cut.merges == small.merges
    assert cut.merge_counts == small.merge_counts and cut.merge_savings == small.merge_savings
    assert trained.truncated(256).merges == []


# -- parity with tokenizers on the page's corpus -----------------------------------------
def test_pretokenizer_matches_bytelevel(pydoc):
    sym = byte_symbols()
    ours = ["".join(sym[b] for b in w.encode("utf-8")) for w in pretokenize(pydoc)]
    theirs = [w for w, _ in pre_tokenizers.ByteLevel(add_prefix_space=False).pre_tokenize_str(pydoc)]
    assert ours == theirs


def test_merges_vocab_and_ids_match_tokenizers(trained, hf_trained):
    hf = hf_trained
    assert hf_merges(hf) == our_merges(trained)
    sym = byte_symbols()
    assert hf.get_vocab() == {"".join(sym[b] for b in tok): i for i, tok in enumerate(trained.vocab)}
    for s in SENTENCES:
        assert hf.encode(s).ids == trained.encode(s)
        assert hf.decode(trained.encode(s)) == s


def test_min_frequency_and_special_tokens_like_tokenizers(pydoc):
    text = pydoc[:50_000]
    ours = ByteBPE.train(text, 10_000, min_frequency=20)
    hf = hf_bpe(text, 10_000, min_frequency=20)
    assert len(ours) < 10_000 and hf.get_vocab_size() == len(ours)
    assert hf_merges(hf) == our_merges(ours)
    # a special token takes id 0 and shifts every other id by one; the merges do not change
    special = hf_bpe(text, 600, special_tokens=["<|endoftext|>"])
    base = ByteBPE.train(text, 599)
    assert hf_merges(special) == our_merges(base)
    assert special.encode(SENTENCES[0]).ids == [i + 1 for i in base.encode(SENTENCES[0])]


@settings(max_examples=300, deadline=None)
@given(s=st.text())
def test_ids_match_tokenizers_on_any_text(trained, hf_trained, s):
    assert hf_trained.encode(s).ids == trained.encode(s)


# -- round trip ------------------------------------------------------------------------
@settings(max_examples=500, deadline=None)
@given(s=st.text())
def test_round_trip_any_text(trained, s):
    ids = trained.encode(s)
    assert trained.decode(ids) == s
    assert "".join(pretokenize(s)) == s


@pytest.mark.parametrize(
    "s",
    [
        "",
        "🙂🚀👩\u200d👩\u200d👧",  # emoji and a zero-width-joiner family
        "日本語のテキスト",  # CJK
        "e\u0301 a\u0308 \u1e9b\u0323",  # combining marks
        "\x00\x01\x1b[0m\x7f\r\n\t\x0b\x0c\x85\u2028",  # control characters
        "\ufeff\U0010ffff\U000e0001",  # BOM, the last code point, a tag character
    ],
)
def test_round_trip_unseen_characters(trained, s):
    ids = trained.encode(s)
    assert trained.decode(ids) == s
    assert trained.decode_bytes(ids) == s.encode("utf-8")


def test_unseen_characters_fall_back_to_bytes(trained):
    # a 4-byte emoji the corpus never contains becomes its four byte tokens
    assert "🙂" not in load_pydoc_text()
    assert trained.tokens("🙂") == [bytes([b]) for b in "🙂".encode("utf-8")]


# -- bad input -------------------------------------------------------------------------
def test_bad_input_raises_value_error(trained):
    with pytest.raises(ValueError, match=r"vocab_size >= 256 \(one token per byte\); got 100"):
        ByteBPE.train("some text", 100)
    with pytest.raises(ValueError, match="train expects the training text as a str; got list"):
        ByteBPE.train(["some", "text"], 300)
    with pytest.raises(ValueError, match="min_frequency must be an integer >= 0; got -1"):
        ByteBPE.train("some text", 300, min_frequency=-1)
    with pytest.raises(ValueError, match="byte_order must be a permutation"):
        ByteBPE.train("some text", 300, byte_order=tuple(range(255)))
    with pytest.raises(ValueError, match="encode expects a str; got bytes"):
        trained.encode(b"bytes")
    with pytest.raises(ValueError, match="encode expects valid Unicode text"):
        trained.encode("lone \ud800 surrogate")
    with pytest.raises(ValueError, match=r"decode expects ids in \[0, 1000\); got 1000"):
        trained.decode([5, 1000])
    with pytest.raises(ValueError, match=r"decode expects ids in \[0, 1000\); got -1"):
        trained.decode([-1])
    with pytest.raises(ValueError, match=r"vocab_size must be in \[256, 1000\]; got 2000"):
        trained.truncated(2000)
    with pytest.raises(ValueError, match="must hold all 256 single bytes"):
        ByteBPE([b"a", b"b"], [])


# -- what the page claims about the trade-off ---------------------------------------------
def test_longer_vocabulary_shorter_sequences(pydoc, trained):
    text = pydoc[:100_000]
    n_bytes, n_words = len(text.encode("utf-8")), len(pretokenize(text))
    lengths = [len(trained.truncated(v).encode(text)) for v in (256, 500, 1000)]
    assert lengths[0] == n_bytes
    assert lengths[0] > lengths[1] > lengths[2] > n_words
    # a merge only lowers counts or makes pairs rarer than itself, so counts never rise
    assert trained.merge_counts == sorted(trained.merge_counts, reverse=True)
    assert trained.pattern == GPT2_PATTERN



# -- the reference trainer: recount everything at every step ----------------------------
def naive_train(text, vocab_size):
    """The textbook loop (count all pairs, merge the best, repeat) with no incremental update."""
    words = Counter(pretokenize(text))
    ids = [[BYTE_ORDER.index(b) for b in w.encode("utf-8")] for w in words]
    counts = list(words.values())
    vocab = [bytes([b]) for b in BYTE_ORDER]
    merges = []
    while len(vocab) < vocab_size:
        pairs = count_pairs(ids, counts)
        if not pairs:
            break
        pair = best_pair(pairs)
        vocab.append(vocab[pair[0]] + vocab[pair[1]])
        merges.append(pair)
        ids = [merge_pair(w, pair, len(vocab) - 1) for w in ids]
    return vocab, merges


def test_incremental_training_equals_naive_recount(pydoc):
    text = pydoc[:20_000]
    bpe = ByteBPE.train(text, 350)
    assert (bpe.vocab, bpe.merges) == naive_train(text, 350)
    assert len(set(bpe.vocab)) == len(bpe.vocab)  # no two merges spelled the same token here


def test_each_merge_shortens_the_training_text_by_its_savings(pydoc, trained):
    """Encoding the training text replays training, so tokens = bytes - what the merges saved.
    A merge saves its pair count, except a pair of equal tokens in a run ("    ": three
    overlapping pairs, two merges)."""
    assert len(trained.encode(pydoc)) == len(pydoc.encode("utf-8")) - sum(trained.merge_savings)
    for (a, b), count, saved in zip(trained.merges, trained.merge_counts, trained.merge_savings):
        assert saved == count if a != b else saved <= count
    assert trained.merge_savings[0] < trained.merge_counts[0]  # the first merge is two spaces
    assert trained.vocab[256] == b"  "


def test_savings_of_a_run_by_hand():
    # "aaaa" x1: pair a a occurs 3 times (overlapping) but merging makes "aa aa": 2 fewer tokens
    bpe = ByteBPE.train("aaaa", 257)
    assert bpe.vocab[256] == b"aa" and bpe.merge_counts == [3] and bpe.merge_savings == [2]


def test_encode_word_steps_apply_merges_by_rank(trained):
    steps = trained.encode_word_steps(" tokenization")
    assert steps[0] == [BYTE_ORDER.index(b) for b in b" tokenization"]
    assert steps[-1] == trained.encode(" tokenization")
    assert all(len(a) > len(b) for a, b in zip(steps, steps[1:]))
    assert b"".join(trained.vocab[i] for i in steps[-1]) == b" tokenization"


def test_from_tokenizers_round_trips_a_trained_tokenizer(trained, hf_trained):
    converted = from_tokenizers(hf_trained)
    assert converted.vocab == trained.vocab and converted.merges == trained.merges
    special = hf_bpe(TINY, 300, special_tokens=["<|endoftext|>"])
    with pytest.raises(ValueError, match="special tokens last"):
        from_tokenizers(special)
    prefixed = hf_bpe(TINY, 300)
    prefixed.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    with pytest.raises(ValueError, match=r"expects pre_tokenizers.ByteLevel\(add_prefix_space=False\)"):
        from_tokenizers(prefixed)


def test_page_claims_at_2000_tokens(pydoc):
    """The page's tokenizer (V = 2000): same merges as tokenizers; the byte-value order
    first differs at a tie; a whitespace-only pre-tokenizer loses merges."""
    ours, hf = ByteBPE.train(pydoc, 2000), hf_bpe(pydoc, 2000)
    assert our_merges(ours) == hf_merges(hf)
    assert ours.vocab[256] == b"  " and len(set(ours.vocab)) == len(ours.vocab)
    natural = ByteBPE.train(pydoc, 2000, byte_order=tuple(range(256)))
    k = next(i for i, (x, y) in enumerate(zip(our_merges(ours), our_merges(natural))) if x != y)
    assert ours.merge_counts[k] == natural.merge_counts[k]  # a tie decided by the id order
    assert ours.merge_counts[:k] == natural.merge_counts[:k]
    whitespace = ByteBPE.train(pydoc, 2000, pattern=r" ?\S+|\s+(?!\S)|\s+")
    assert len(set(our_merges(whitespace)) & set(our_merges(ours))) < 0.95 * len(ours.merges)
