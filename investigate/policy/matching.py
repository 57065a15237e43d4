"""How a private string is found in a text: as a reader reads it, not as bytes compare.

Text is written by people, pasted from e-mails and PDFs, and typed on phones: "Kiosk  X" with
two spaces, a line break or a no-break space inside a name, a soft hyphen or a zero-width
space a word processor left behind, a ligature, "KIOSK X", and in German and Danish the name
bent by grammar ("des Kiosks", "die Kioske", "kiosken"). Every one of them prints as the name.
So both the text and the private string are brought to one reading (``reading``) before
they are compared:

- Unicode NFKC (a ligature or a full-width letter is the letter), then case folding
  ("STRASSE" is "straße");
- soft hyphens and zero-width characters removed, since nothing prints for them;
- every run of whitespace one space; between two words of a name, any punctuation or none as
  good as a space ("Kiosk-X", "KioskX", a name broken over a line);
- umlauts as they are also typed ("Müller", "Mueller", "Muller"), other accents optional;

and a private string matches where a word begins (never inside a word: "Post" is not in
"Kompost"), ending at a word's end or bent by one of the German/Danish endings (genitive -s,
plural -e/-er/-s, Danish definite -en/-et, and their combinations) — or, when its last word is
long enough to mean nothing else, at the start of a longer word ("Vendrakladen" in
"Vendrakladenkette"): compounds are how German names a shop's branch or owner.

This is the one place where texts are matched; which strings are private is
``policy.private``'s question.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: Characters that print as nothing: soft hyphen, zero-width space/joiners, word joiner,
#: byte-order mark, Mongolian vowel separator.
INVISIBLE = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff\u180e")
#: German and Danish endings a name takes in a sentence (Kiosks, Kioske, Kiosken, Kiosket, Kioskens).
ENDINGS = ("s", "es", "e", "er", "ern", "ers", "n", "en", "ens", "et", "ets", "ne", "nes")
#: A last word this long matches at the start of a longer word (a compound); a shorter one
#: ("Post", "T-07") only whole or with an ending, or it would match half the dictionary.
PREFIX_LENGTH = 5
#: The first word of a name is looked up among the prefixes of a text's words up to this
#: length: a name's first word is never longer, so a 10,000-letter word costs no more.
_LONGEST_KEY = 64

_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


@lru_cache(maxsize=8192)
def _read_cluster(cluster: str) -> str:
    """A letter with its accents as it reads. Remembered: a text is a few dozen distinct letters
    over and over, and two normalisations per letter were most of reading a German text."""
    out = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", cluster).casefold())
    return "".join(c for c in out if c not in INVISIBLE)


#: Whitespace the reading changes: any but a single space (a run, a tab, a line break, and the
#: ASCII separators \x1c-\x1f, which Python counts as whitespace).
_UNEVEN_SPACE = re.compile(r"[^\S ]| {2}")


def reading(text: str) -> tuple[str, list[int], list[int]]:
    """``text`` as it is compared, with, for each of its characters, where it starts and ends in
    ``text`` (so that a match can be cut out of the original). Linear in the text's length."""
    if text.isascii() and not _UNEVEN_SPACE.search(text):
        # Most names, addresses and answers: NFKC leaves ASCII as it is, folding is lowering,
        # and no ASCII character combines or is invisible, so each character reads as itself
        # lowered (``test_ascii_reads_as_the_general_reading`` holds the two alike). A third of
        # a public copy's time went to reading such texts a character at a time.
        n = len(text)
        return text.lower(), list(range(n)), list(range(1, n + 1))
    if _one_to_one().fullmatch(text) and not _UNEVEN_SPACE.search(text):
        # Latin text whose every letter reads as one letter ("Ä" as "ä", not "ß" as "ss" nor a
        # soft hyphen as nothing): read whole, each letter where it stood
        # (``test_latin_text_reads_whole_as_a_letter_at_a_time`` holds the two alike).
        n = len(text)
        return _read_whole(text), list(range(n)), list(range(1, n + 1))
    return reading_by_cluster(text)


def reading_by_cluster(text: str) -> tuple[str, list[int], list[int]]:
    """``reading`` of any text: a letter with its accents at a time."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):  # a letter with its accents is read as one
            j += 1
        read = _read_cluster(text[i:j])
        for c in read:
            if c.isspace():
                if out and out[-1] == " ":
                    ends[-1] = j
                    continue
                c = " "
            out.append(c)
            starts.append(i)
            ends.append(j)
        i = j
    return "".join(out), starts, ends


#: Text of letters no neighbour changes: Latin with its accents precomposed (up to U+024F) and
#: the general punctuation block (quotes „“, dashes, invisible spaces). None of them combines, so
#: each is a cluster of its own, and none composes with the next under NFKC: read whole, such a
#: text reads as it reads a letter at a time (``test_latin_text_reads_whole_as_a_letter_at_a_time``
#: holds every pair of them to it).
_LATIN = re.compile(r"[\x00-\u024f\u2000-\u206f]*")
_DROP_INVISIBLE = dict.fromkeys(map(ord, INVISIBLE))


def _read_whole(text: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


@lru_cache(maxsize=1)
def _one_to_one() -> re.Pattern:
    """The Latin letters (of ``_LATIN``) that read as one letter, a single space among them: a
    text of these keeps its length and every letter's place. Made on first use (4 ms)."""
    return re.compile("[" + "".join(
        re.escape(c) for c in map(chr, (*range(0x250), *range(0x2000, 0x2070)))
        if len(_read_cluster(c)) == 1 and (c == " " or not _read_cluster(c).isspace())) + "]*")


def read_as(text: str) -> str:
    """``text`` as it is compared, stripped: the form two spellings of one name share."""
    if text.isascii() and not _UNEVEN_SPACE.search(text):  # ``reading``'s own shortcut, without the offsets
        return text.lower().strip()
    if _LATIN.fullmatch(text):
        # Normalised whole, not a letter at a time: the names and addresses of twenty thousand
        # German stores ("Straße", „Ecke“) took 0.77 s to read, 0.12 s so.
        return _SPACE.sub(" ", _read_whole(text).translate(_DROP_INVISIBLE)).strip()
    return reading(text)[0].strip()


def _words(read: str) -> list[str]:
    return _WORD.findall(read)


def _text_keys(texts: list[str | None]) -> list[str]:
    """The ``_key`` of every word of ``texts``, read as they are compared."""
    return [_key(word) for text in texts if text for word in _words(reading(text)[0])]


def initials(texts: list[str | None]) -> frozenset[str]:
    """The first letter and the first two letters of each word of ``texts``, as they are looked
    up (their ``_key``): what ``may_be_in`` asks of a private string."""
    return frozenset(key[:n] for key in _text_keys(texts) for n in (1, 2) if key[:n])


#: The characters whose key is themselves lowered, whatever follows them.
_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def may_be_in(value: str, letters: frozenset[str]) -> bool:
    """Whether ``value`` may be found in texts of these ``initials``, told from its first two
    characters without reading it: False only when it cannot.

    A private string is found only where its first word begins a word of the text. One whose
    first character is an ASCII letter, digit or "_" begins its first word with that character,
    lowered, whatever follows (a letter an accent composes with keeps its key's first letter:
    "E" and a combining acute read "é", whose key is "e"); one whose first two are such
    characters, and not a pair the key folds (``FOLDED_PAIRS``: "ae" is looked up as "a"),
    begins it with those two. A string beginning with anything else (a space, an accent, a
    quote) may begin its first word otherwise, and may be in them. The checklist checks two
    texts against the forty thousand names and addresses of twenty thousand stores: reading
    each was half of it, and most are told apart by their first two letters."""
    two = value[:2]
    if len(two) == 2 and two[0] in _PLAIN and two[1] in _PLAIN and two.lower() not in FOLDED_PAIRS:
        return two.lower() in letters
    return two[:1] not in _PLAIN or two[:1].lower() in letters


#: How German and Danish letters are also written: "Müller", "Mueller" and "Muller" are one name.
_LETTERS = {"ä": "(?:ä|ae|a)", "ö": "(?:ö|oe|o)", "ü": "(?:ü|ue|u)", "å": "(?:å|aa|a)",
            "æ": "(?:æ|ae|a)", "ø": "(?:ø|oe|o)"}
_DIGRAPHS = {"ae": "(?:ae|ä|æ)", "oe": "(?:oe|ö|ø)", "ue": "(?:ue|ü)", "aa": "(?:aa|å)"}


def _letters(word: str) -> str:
    """The pattern of one word, its umlauts as they are also typed, other accents optional."""
    out, i = [], 0
    while i < len(word):
        if word[i:i + 2] in _DIGRAPHS:
            out.append(_DIGRAPHS[word[i:i + 2]])
            i += 2
            continue
        c = word[i]
        bare = unicodedata.normalize("NFD", c)[0]
        out.append(_LETTERS.get(c) or (f"(?:{re.escape(c)}|{re.escape(bare)})" if bare != c else re.escape(c)))
        i += 1
    return "".join(out)


#: The letter pairs a word's key writes as one letter ("Aerzte" is looked up as "arzte").
FOLDED_PAIRS = ("ae", "oe", "ue", "aa")


@lru_cache(maxsize=65536)
def _key(word: str) -> str:
    """A word without accents or umlaut spellings: where a text is looked up in the index.
    Remembered: names share their words ("Kiosk", "Späti", "Straße"), and indexing the sixty
    thousand strings of a case of twenty thousand stores asked for 120,000 keys."""
    if word.isascii():
        bare = word
    else:
        bare = "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))
        bare = bare.replace("æ", "a").replace("ø", "o")
    for digraph in FOLDED_PAIRS:
        bare = bare.replace(digraph, digraph[0])
    return bare


@lru_cache(maxsize=4096)
def pattern(value: str) -> re.Pattern:
    """The pattern of ``value`` over texts already brought to their reading."""
    words = _words(read_as(value))
    if not words:
        return re.compile(r"(?!)")
    # The characters between a name's words matter little ("Kiosk X", "Kiosk-X", "Kiosk, X",
    # "KioskX", "a@b.org", "+49 (30) 4000"): the words in order are the name.
    between = r"\W{0,3}"
    body = between.join(_letters(w) for w in words)
    last = words[-1]
    if len(last) >= PREFIX_LENGTH and not last.isdigit():
        tail = r"\w*"  # the whole compound, so that a redaction leaves no part of it
    else:
        tail = "(?:" + "|".join(ENDINGS) + r")?(?!\w)"
    return re.compile(r"(?<!\w)" + body + tail)


class PrivateMatcher:
    """Finds private strings in text fast enough for a case of twenty thousand stores: the
    strings are indexed by their first two words (their ``_key``), and a text is checked only
    against the strings whose first word begins one of its words and whose second begins the
    next — not against every string, as a loop would, and not against every "Späti …" because
    one of them begins "Späti"."""

    def __init__(self, strings: list[tuple[str, str]]):
        self.singles: dict[str, list[tuple[str, str]]] = {}
        self.pairs: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.patterns: dict[str, re.Pattern] = {}
        for kind, value in strings:
            words = _words(read_as(value))  # only the first two are keys
            if len(words) == 1:
                self.singles.setdefault(_key(words[0])[:_LONGEST_KEY], []).append((kind, value))
            elif words:
                key = (_key(words[0])[:_LONGEST_KEY], _key(words[1])[:_LONGEST_KEY])
                self.pairs.setdefault(key, []).append((kind, value))
        self.firsts = {first for first, _second in self.pairs} | set(self.singles)
        self.first_lengths = sorted({len(k) for k in self.firsts})
        self.second_lengths = sorted({len(second) for _first, second in self.pairs})

    @classmethod
    def for_texts(cls, strings: list[tuple[str, str]], texts: list[str | None]) -> PrivateMatcher:
        """A matcher of ``strings`` that finds in ``texts`` whatever the matcher of them all
        finds there, indexing only the strings that could be candidates in them: those whose
        first word's key begins a word of theirs (``candidates`` asks that before anything
        else). The checklist checks two texts against the sixty thousand strings of twenty
        thousand stores, and indexing them all was a fifth of it."""
        starts = set()
        for key in _text_keys(texts):
            starts.update(key[:n] for n in range(1, min(len(key), _LONGEST_KEY) + 1))
        return cls([(kind, value) for kind, value in strings
                    if (first := _WORD.search(read_as(value))) and _key(first.group())[:_LONGEST_KEY] in starts])

    def _prefixes(self, word: str, lengths: list[int]):
        for n in lengths:
            if n > len(word):
                return
            yield word[:n]

    def candidates(self, read: str) -> list[tuple[str, str]]:
        """The strings whose first words begin words of ``read`` (a text's reading), in turn."""
        words = [_key(w) for w in _words(read)]
        seen: dict[str, tuple[str, str]] = {}
        for i, word in enumerate(words):
            for first in self._prefixes(word, self.first_lengths):
                if first not in self.firsts:
                    continue
                found = list(self.singles.get(first, ()))
                # The second word follows in the next word, or in the same one ("KioskX").
                for after in {word[len(first):], words[i + 1] if i + 1 < len(words) else ""} - {""}:
                    for second in self._prefixes(after, self.second_lengths):
                        found += self.pairs.get((first, second), ())
                for kind, value in found:
                    seen.setdefault(value, (kind, value))
        return list(seen.values())

    def _pattern(self, value: str) -> re.Pattern:
        if value not in self.patterns:  # its own cache: one matcher may hold more than lru_cache keeps
            self.patterns[value] = pattern(value)
        return self.patterns[value]

    def spans(self, text: str) -> list[tuple[int, int, str]]:
        """(start, end, kind) in ``text`` of every private string, in order, overlaps merged."""
        read, starts, ends = reading(text)
        found = []
        for kind, value in self.candidates(read):
            found += [(starts[m.start()], ends[m.end() - 1], kind) for m in self._pattern(value).finditer(read)]
        merged: list[tuple[int, int, str]] = []
        for start, end, kind in sorted(found):
            if merged and start < merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]), merged[-1][2])
            else:
                merged.append((start, end, kind))
        return merged

    def find(self, text: str | None) -> str | None:
        """The kind of the first private string in ``text``, or None."""
        if not text:
            return None
        read = reading(text)[0]
        for kind, value in self.candidates(read):
            if self._pattern(value).search(read):
                return kind
        return None

    def redact(self, text: str | None, mark: str = "[…]") -> str | None:
        """``text`` with every private string, in whatever spelling, replaced by ``mark``."""
        if not text:
            return text
        spans = self.spans(text)
        out, at = [], 0
        for start, end, _kind in spans:
            out += [text[at:start], mark]
            at = end
        return "".join(out) + text[at:]


def mentions(text: str | None, value: str) -> bool:
    """Whether ``text`` names ``value`` in any spelling a reader would read as it."""
    return bool(text) and _matcher_of_one(value).find(text) is not None


@lru_cache(maxsize=1024)
def _matcher_of_one(value: str) -> PrivateMatcher:
    """The matcher of one value, made once: the naming asks of each named store of a chain
    whether its name holds the chain's (25,000 matchers made for twelve chains)."""
    return PrivateMatcher([("", value)])
