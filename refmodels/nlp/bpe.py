"""Byte-level byte-pair encoding (BPE), trained from scratch.

Papers: Gage, "A New Algorithm for Data Compression" (1994), the compression scheme;
Sennrich, Haddow and Birch, "Neural Machine Translation of Rare Words with Subword
Units" (ACL 2016), BPE over characters for NLP; Radford et al., "Language Models are
Unsupervised Multitask Learners" (2019), BPE over UTF-8 *bytes* with a regex
pre-tokenizer (GPT-2).

Checked against: Hugging Face ``tokenizers`` (``models.BPE`` + ``pre_tokenizers.ByteLevel``
+ ``trainers.BpeTrainer``), tests/test_bpe.py: on the same text and vocabulary size
both learn the same merges in the same order and give the same ids.

Glossary::

    byte        one of the 256 values of a UTF-8 byte; the base vocabulary.
    token       a byte string in the vocabulary; its position there is its *id*.
    pre-token   a chunk of text cut by the pre-tokenizer (a word with its leading
                space, a run of digits, of punctuation or of whitespace). Merges
                never cross a pre-token boundary.
    merge       a rule (a, b) -> ab on two ids; its *rank* is the order it was learned.
    V           the vocabulary size: 256 bytes + one token per merge.

The algorithm (:meth:`ByteBPE.train`):
    1. pre-tokenize the text and count each distinct pre-token;
    2. write every pre-token as its UTF-8 bytes (base ids);
    3. count every adjacent pair of ids, weighted by the pre-token's count;
    4. merge the most frequent pair into a new token, everywhere, and record it;
    5. repeat 3-4 until the vocabulary has V tokens (or no pair occurs
       ``min_frequency`` times). Step 3 is incremental: only the pre-tokens that
       contain the merged pair are recounted.

Tie-breaking (deterministic): of the pairs with the highest count, the one with the
smallest ids wins, compared as (left id, right id). The ids of the 256 bytes follow
GPT-2's order (:data:`BYTE_ORDER`: the printable bytes ``!`` ... ``~``, ``¡`` ... ``¬``,
``®`` ... ``ÿ`` first, then the rest), and a new token takes the next id, so an older
token has a smaller id. This is exactly the order of ``tokenizers``' trainer, whose
base vocabulary is the 256 byte symbols sorted by code point.

Pre-tokenization: GPT-2's regex (:data:`GPT2_PATTERN`), the one ``pre_tokenizers.ByteLevel``
applies. Encoding applies the learned merges to each pre-token by rank (lowest first),
as GPT-2's encoder does.

Differences from the papers:
    * Sennrich et al. merge *characters* and mark word ends with ``</w>``; this is the
      byte-level variant: no unknown token exists, any string encodes.
    * GPT-2 released 50,000 merges (the paper does not say on which text they were
      learned); this file learns its own merges.
    * No special tokens (``<|endoftext|>``); add them at the caller if needed.
"""

import heapq
from collections import Counter, defaultdict
from collections.abc import Sequence

import regex

__all__ = [
    "BYTE_ORDER",
    "GPT2_PATTERN",
    "ByteBPE",
    "best_pair",
    "byte_symbols",
    "count_pairs",
    "from_tokenizers",
    "load_pydoc_text",
    "merge_pair",
    "pretokenize",
]

#: GPT-2's pre-tokenizer (encoder.py in openai/gpt-2): contractions, letters with an
#: optional leading space, digits, other symbols, then whitespace. The lookahead
#: `\s+(?!\S)` leaves the last space of a run to the next word.
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def _gpt2_byte_order() -> tuple[int, ...]:
    """The 188 printable bytes in increasing order, then the 68 others."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    return tuple(printable + [b for b in range(256) if b not in printable])


#: id -> byte value of the 256 base tokens. BYTE_ORDER[0] is "!" and the space is 220, as in GPT-2.
BYTE_ORDER: tuple[int, ...] = _gpt2_byte_order()


def byte_symbols() -> dict[int, str]:
    """GPT-2's printable stand-in for each byte, used only to *display* tokens.

    Printable bytes stand for themselves; the 68 others (space, newline, control
    bytes...) are shifted to code points 256 and up, so the space shows as ``Ġ``.

    >>> sym = byte_symbols()
    >>> sym[ord("a")], sym[ord(" ")], sym[ord("\\n")]
    ('a', 'Ġ', 'Ċ')
    """
    n_printable = 188
    return {b: chr(b) if i < n_printable else chr(256 + i - n_printable) for i, b in enumerate(BYTE_ORDER)}


def pretokenize(text: str, pattern: str = GPT2_PATTERN) -> list[str]:
    """Cut ``text`` into pre-tokens; joined back they give ``text`` again.

    >>> pretokenize("Hello world, it's 2024!")
    ['Hello', ' world', ',', ' it', "'s", ' 2024', '!']
    """
    return regex.findall(pattern, text)


def count_pairs(words: Sequence[Sequence[int]], counts: Sequence[int]) -> Counter:
    """How often each adjacent pair of ids occurs, each word weighted by its count.

    >>> count_pairs([[1, 2, 1, 2]], [3])
    Counter({(1, 2): 6, (2, 1): 3})
    """
    pairs: Counter = Counter()
    for word, count in zip(words, counts):
        for pair in zip(word, word[1:]):
            pairs[pair] += count
    return pairs


def best_pair(pair_counts: Counter) -> tuple[int, int]:
    """The pair to merge next: the highest count, ties broken by the smallest (left, right) ids.

    :meth:`ByteBPE.train` picks the same pair with a heap instead of scanning every pair.

    >>> best_pair(Counter({(5, 9): 4, (3, 7): 4, (1, 2): 3}))
    (3, 7)
    """
    return min(pair_counts, key=lambda pair: (-pair_counts[pair], pair))


def merge_pair(word: Sequence[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace every occurrence of ``pair`` in ``word``, left to right, by ``new_id``.

    >>> merge_pair([7, 7, 7, 5], (7, 7), 9)   # the first two 7s merge, the third is left
    [9, 7, 5]
    """
    out, i = [], 0
    while i < len(word):
        if i + 1 < len(word) and (word[i], word[i + 1]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return out


def load_pydoc_text() -> str:
    """Python's own help texts (``pydoc_data.topics``), sorted by topic and joined by newlines.

    Real English prose and code examples that ship with every Python: nothing to download.
    """
    from pydoc_data.topics import topics

    return "\n".join(topics[name] for name in sorted(topics))


class ByteBPE:
    """A trained byte-level BPE tokenizer: a vocabulary of byte strings and a merge list.

    >>> bpe = ByteBPE.train("low low lower lowest", vocab_size=260)
    >>> [bpe.vocab[i] for i in range(256, len(bpe))]
    [b'lo', b'low', b' low', b' lowe']
    >>> ids = bpe.encode("slower")
    >>> [bpe.vocab[i] for i in ids], bpe.decode(ids)
    ([b's', b'low', b'e', b'r'], 'slower')
    """

    def __init__(self, vocab: Sequence[bytes], merges: Sequence[tuple[int, int]], pattern: str = GPT2_PATTERN):
        self.vocab: list[bytes] = list(vocab)
        self.merges: list[tuple[int, int]] = list(merges)
        self.pattern = pattern
        # filled by train: each merge's pair count when it was learned, and how many tokens
        # it removed from the training text (fewer than the count for runs like "aaa")
        self.merge_counts: list[int] = []
        self.merge_savings: list[int] = []
        self._byte_id = {token[0]: i for i, token in enumerate(self.vocab) if len(token) == 1}
        if sorted(self._byte_id) != list(range(256)):
            raise ValueError("a byte-level vocabulary must hold all 256 single bytes")
        token_id = {token: i for i, token in enumerate(self.vocab)}
        # pair -> (rank, id of the merged token); a rank is the position in the merge list
        self.ranks: dict[tuple[int, int], tuple[int, int]] = {
            (a, b): (rank, token_id[self.vocab[a] + self.vocab[b]]) for rank, (a, b) in enumerate(self.merges)
        }
        self._cache: dict[str, list[int]] = {}

    def __len__(self) -> int:
        return len(self.vocab)

    # -- training ------------------------------------------------------------------
    @classmethod
    def train(
        cls,
        text,  # validated below, so a wrong type gets our ValueError
        vocab_size: int,
        *,
        pattern: str = GPT2_PATTERN,
        min_frequency: int = 0,
        byte_order: Sequence[int] = BYTE_ORDER,
    ) -> "ByteBPE":
        """Learn merges on ``text`` until the vocabulary has ``vocab_size`` tokens.

        Stops early if the most frequent pair occurs fewer than ``min_frequency``
        times (or not at all). ``byte_order`` sets the ids of the 256 bytes, and so
        breaks ties (see the module docstring).
        """
        if not isinstance(text, str):
            raise ValueError(f"train expects the training text as a str; got {type(text).__name__}")
        if not isinstance(vocab_size, int) or vocab_size < 256:
            raise ValueError(f"byte-level BPE needs vocab_size >= 256 (one token per byte); got {vocab_size!r}")
        if not isinstance(min_frequency, int) or min_frequency < 0:
            raise ValueError(f"min_frequency must be an integer >= 0; got {min_frequency!r}")
        if sorted(byte_order) != list(range(256)):
            raise ValueError("byte_order must be a permutation of the 256 byte values")

        # 1-2. distinct pre-tokens with their counts, each written as base ids
        vocab = [bytes([b]) for b in byte_order]
        byte_id = {b: i for i, b in enumerate(byte_order)}
        word_counts = Counter(pretokenize(text, pattern))
        words = [[byte_id[b] for b in word.encode("utf-8")] for word in word_counts]
        counts = list(word_counts.values())

        # 3. count every pair once, remember which words hold it, and keep a heap of
        # (-count, pair): the smallest entry is the most frequent pair with the smallest ids
        pair_counts = count_pairs(words, counts)
        where: defaultdict[tuple[int, int], set[int]] = defaultdict(set)
        for w, word in enumerate(words):
            for pair in zip(word, word[1:]):
                where[pair].add(w)
        heap = [(-count, pair) for pair, count in pair_counts.items()]
        heapq.heapify(heap)

        token_id = {token: i for i, token in enumerate(vocab)}
        merges, merge_counts, merge_savings = [], [], []
        while len(vocab) < vocab_size and heap:
            neg_count, pair = heapq.heappop(heap)
            count = pair_counts.get(pair, 0)
            if -neg_count != count:  # stale entry: the count changed since it was pushed
                if count > 0:
                    heapq.heappush(heap, (-count, pair))
                continue
            if count < max(min_frequency, 1):
                break
            # 4. the new token; if two merges spell the same bytes, they share one id
            new = vocab[pair[0]] + vocab[pair[1]]
            if new not in token_id:
                token_id[new] = len(vocab)
                vocab.append(new)
            new_id = token_id[new]
            merges.append(pair)
            merge_counts.append(count)
            saved = 0

            # recount only the words that held the pair: remove their old pairs, add the new ones
            delta: Counter = Counter()
            for w in where.pop(pair):
                old, new_word = words[w], merge_pair(words[w], pair, new_id)
                if len(new_word) == len(old):
                    continue  # the pair left this word in an earlier merge
                for p in zip(old, old[1:]):
                    delta[p] -= counts[w]
                for p in zip(new_word, new_word[1:]):
                    delta[p] += counts[w]
                    where[p].add(w)
                words[w] = new_word
                saved += counts[w] * (len(old) - len(new_word))
            merge_savings.append(saved)
            for p, d in delta.items():
                pair_counts[p] += d
                if pair_counts[p] == 0:
                    del pair_counts[p]
                elif d > 0:  # a pair that gained occurrences needs an up-to-date heap entry
                    heapq.heappush(heap, (-pair_counts[p], p))

        bpe = cls(vocab, merges, pattern)
        bpe.merge_counts, bpe.merge_savings = merge_counts, merge_savings
        return bpe

    def truncated(self, vocab_size: int) -> "ByteBPE":
        """The first ``vocab_size`` tokens and their merges: what training with that size gives.

        Training is greedy, so a smaller vocabulary is a prefix of a larger one (tests check it).
        """
        if not 256 <= vocab_size <= len(self.vocab):
            raise ValueError(f"vocab_size must be in [256, {len(self.vocab)}]; got {vocab_size!r}")
        # keep the merges up to the one that created token vocab_size - 1
        new_ids = [self.ranks[pair][1] for pair in self.merges]
        keep = new_ids.index(vocab_size - 1) + 1 if vocab_size > 256 else 0
        bpe = ByteBPE(self.vocab[:vocab_size], self.merges[:keep], self.pattern)
        bpe.merge_counts, bpe.merge_savings = self.merge_counts[:keep], self.merge_savings[:keep]
        return bpe

    # -- encoding and decoding -------------------------------------------------------
    def encode_word_steps(self, word: str) -> list[list[int]]:
        """One pre-token's ids after each merge: its bytes first, its final tokens last.

        Each step applies the lowest-ranked merge present (everywhere in the word), as
        GPT-2's encoder does, until no learned merge applies.
        """
        ids = [self._byte_id[b] for b in word.encode("utf-8")]
        steps = [ids]
        while len(ids) > 1:
            ranked = [self.ranks[p] for p in zip(ids, ids[1:]) if p in self.ranks]
            if not ranked:
                break
            rank, new_id = min(ranked)
            ids = merge_pair(ids, self.merges[rank], new_id)
            steps.append(ids)
        return steps

    def _encode_word(self, word: str) -> list[int]:
        if word not in self._cache:  # words repeat: encode each distinct pre-token once
            self._cache[word] = self.encode_word_steps(word)[-1]
        return self._cache[word]

    def encode(self, text) -> list[int]:  # text validated below, so a wrong type gets our ValueError
        """Text -> ids. Any valid Unicode string encodes: unseen characters fall back to bytes."""
        if not isinstance(text, str):
            raise ValueError(f"encode expects a str; got {type(text).__name__}")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as err:
            raise ValueError(f"encode expects valid Unicode text (no lone surrogates); got {err.reason}") from None
        return [i for word in pretokenize(text, self.pattern) for i in self._encode_word(word)]

    def tokens(self, text) -> list[bytes]:
        """The byte string of each token ``encode`` produces (to show a segmentation)."""
        return [self.vocab[i] for i in self.encode(text)]

    def decode_bytes(self, ids: Sequence[int]) -> bytes:
        """Ids -> the bytes they stand for."""
        bad = [i for i in ids if not isinstance(i, int) or not 0 <= i < len(self.vocab)]
        if bad:
            raise ValueError(f"decode expects ids in [0, {len(self.vocab)}); got {bad[0]!r}")
        return b"".join(self.vocab[i] for i in ids)

    def decode(self, ids: Sequence[int]) -> str:
        """Ids -> text. A cut through a multi-byte character decodes to U+FFFD, as in GPT-2."""
        return self.decode_bytes(ids).decode("utf-8", errors="replace")


def from_tokenizers(tokenizer) -> ByteBPE:
    """A ``tokenizers.Tokenizer`` with a byte-level BPE model as a :class:`ByteBPE`.

    Works for a tokenizer trained as on the tokenization page, and for GPT-2's
    (``Tokenizer.from_pretrained("gpt2")``, with internet): its 256 byte tokens come
    first, in :data:`BYTE_ORDER`. Special tokens after the last merged token are dropped.
    """
    import json

    spec = json.loads(tokenizer.to_str())
    if spec["model"]["type"] != "BPE":
        raise ValueError(f"from_tokenizers expects a BPE model; got {spec['model']['type']}")
    pre = spec.get("pre_tokenizer") or {}
    if (pre.get("type"), pre.get("add_prefix_space"), pre.get("use_regex", True)) != ("ByteLevel", False, True):
        raise ValueError(f"from_tokenizers expects pre_tokenizers.ByteLevel(add_prefix_space=False); got {pre}")
    to_byte = {symbol: b for b, symbol in byte_symbols().items()}
    special = {t["content"] for t in spec.get("added_tokens", []) if t.get("special")}
    by_id = sorted(spec["model"]["vocab"].items(), key=lambda kv: kv[1])
    while by_id and by_id[-1][0] in special:
        by_id.pop()
    if (
        [i for _, i in by_id] != list(range(len(by_id)))
        or any(token in special for token, _ in by_id)
        or any(c not in to_byte for token, _ in by_id for c in token)
    ):
        raise ValueError("from_tokenizers expects ids 0..V-1 of byte-level tokens, special tokens last")
    vocab = [bytes(to_byte[c] for c in token) for token, _ in by_id]
    token_id = {token: i for i, (token, _) in enumerate(by_id)}
    pairs = [m.split(" ") if isinstance(m, str) else m for m in spec["model"]["merges"]]
    return ByteBPE(vocab, [(token_id[a], token_id[b]) for a, b in pairs])
