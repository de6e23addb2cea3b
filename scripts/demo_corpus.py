#!/usr/bin/env python3
"""The demo model's corpus: question/answer turns with exact answers (issue 26).

Pure Python, standard library only, deterministic. scripts/train-demo-model.py
trains on it; bench/quality and the tests regenerate the held-out questions
from it.

  python3 scripts/demo_corpus.py --show 20          print training examples
  python3 scripts/demo_corpus.py --heldout 500      print the held-out set
  python3 scripts/demo_corpus.py --self-test        checks (split, determinism)

Tasks (each phrased several ways a person would type them):
  add      a + b, operands of 1-3 digits
  sub      a - b, 1-3 digits, a >= b
  mul      a * b, a in 2..99, b in 2..12 ("How much is 17 times 4?")
  compare  the larger/smaller of two numbers below 10000, or yes/no
  reverse  a word written backwards
  spell    a word spelled letter by letter, "a-p-p-l-e"
  count    letters in a word, or how often one letter occurs in it
  units    simple unit conversions (3 hours -> 180 minutes)

Held-out split: every question has a key; a question is held out when a hash
of its key falls below the task's held-out fraction, and training never emits
a held-out key. For add, sub and compare (hundreds of thousands of problems)
the key is the problem itself (task and operands), so a held-out question is
an arithmetic problem the model never saw in any phrasing. For the small
problem spaces (mul, units, and the word tasks: a model cannot know how a
word it never saw is spelled) the key is the problem and its phrasing, so a
held-out question is a wording of a problem that training never used.

The chat turn is rendered exactly as gemma4c's runtime renders a single user
message with the Gemma 4 chat format (runtime/tokenizer/ChatTemplate.cpp),
with the turn markers of the demo checkpoint's tokenizer_config.json (the
npm Gemma tokenizer's ids 105/106):
  <bos><start_of_turn>user\\nQUESTION<end_of_turn>\\n<start_of_turn>model\\n
and the model's reply is ANSWER<end_of_turn>.
"""
import hashlib
import json
import random
import sys

BOS = "<bos>"
SOT = "<start_of_turn>"
EOT = "<end_of_turn>"

# Tokens the corpus always uses besides those of the text (ids in the npm
# Gemma tokenizer): pad, eos, bos, unk, <start_of_turn>, <end_of_turn>, "\n".
SPECIAL_IDS = (0, 1, 2, 3, 105, 106, 107)

WORDS = """
apple banana cherry grape lemon mango melon orange peach pear plum berry
bread butter cheese honey pizza pasta salad soup sugar water coffee juice
house garden window door table chair clock lamp mirror bottle basket pillow
river ocean forest desert island valley mountain beach cloud storm rain snow
tiger lion zebra horse mouse rabbit monkey turtle eagle shark whale snake
dog cat bird fish frog duck goat sheep camel panda koala otter
red green blue yellow purple silver golden black white brown pink
happy quick quiet brave clever gentle simple strong bright sunny
school pencil paper letter number music guitar piano violin drum
summer winter spring autumn morning evening night today
friend family mother father sister brother doctor farmer teacher pilot
computer planet rocket engine bridge castle tower market city village
book story poem dream smile light stone metal glass wood
train plane boat truck bicycle wheel road street
""".split()

UNITS = [  # (big singular, big plural, small plural, factor)
    ("meter", "meters", "centimeters", 100),
    ("kilometer", "kilometers", "meters", 1000),
    ("kilogram", "kilograms", "grams", 1000),
    ("liter", "liters", "milliliters", 1000),
    ("hour", "hours", "minutes", 60),
    ("minute", "minutes", "seconds", 60),
    ("day", "days", "hours", 24),
    ("week", "weeks", "days", 7),
    ("foot", "feet", "inches", 12),
    ("year", "years", "months", 12),
]

TEMPLATES = {
    "add": [
        "What is {a} + {b}?",
        "What is {a} plus {b}?",
        "How much is {a} plus {b}?",
        "Add {a} and {b}.",
        "{a} + {b} = ?",
        "Calculate {a} + {b}.",
        "What's the sum of {a} and {b}?",
        "what is {a}+{b}",
    ],
    "sub": [
        "What is {a} - {b}?",
        "What is {a} minus {b}?",
        "How much is {a} minus {b}?",
        "Subtract {b} from {a}.",
        "{a} - {b} = ?",
        "Calculate {a} - {b}.",
        "What's {a} take away {b}?",
        "what is {a}-{b}",
    ],
    "mul": [
        "What is {a} * {b}?",
        "What is {a} times {b}?",
        "How much is {a} times {b}?",
        "Multiply {a} by {b}.",
        "{a} x {b} = ?",
        "What's the product of {a} and {b}?",
        "Calculate {a} * {b}.",
        "what is {a}*{b}",
    ],
    "compare": [  # (template, which): max, min, gt (yes if a > b), lt
        ("Which is bigger, {a} or {b}?", "max"),
        ("Which number is larger: {a} or {b}?", "max"),
        ("What is the maximum of {a} and {b}?", "max"),
        ("Which is smaller, {a} or {b}?", "min"),
        ("Which number is less: {a} or {b}?", "min"),
        ("What is the minimum of {a} and {b}?", "min"),
        ("Is {a} greater than {b}?", "gt"),
        ("Is {a} bigger than {b}?", "gt"),
        ("Is {a} less than {b}?", "lt"),
        ("Is {a} smaller than {b}?", "lt"),
    ],
    "reverse": [
        "Reverse the word {w}.",
        "What is {w} spelled backwards?",
        "Write {w} backwards.",
        "Reverse the letters of the word {w}.",
        "How do you write {w} in reverse?",
        "What do you get if you reverse {w}?",
    ],
    "spell": [
        "Spell the word {w}.",
        "How do you spell {w}?",
        "Spell {w} letter by letter.",
        "What letters make up the word {w}?",
        "Can you spell {w}?",
    ],
    "count": [  # (template, which): len or the count of letter {c}
        ("How many letters are in the word {w}?", "len"),
        ("How many letters does {w} have?", "len"),
        ("Count the letters in {w}.", "len"),
        ("How long is the word {w}?", "len"),
        ("How many times does the letter {c} appear in {w}?", "occ"),
        ("How many {c}'s are in the word {w}?", "occ"),
        ("Count the letter {c} in {w}.", "occ"),
    ],
    "units": [
        "How many {small} are in {n} {big}?",
        "Convert {n} {big} to {small}.",
        "{n} {big} is how many {small}?",
        "What is {n} {big} in {small}?",
        "How many {small} is {n} {big}?",
    ],
}

TASKS = ["add", "sub", "mul", "compare", "reverse", "spell", "count", "units"]
# Sampling weights for training (the harder arithmetic gets more).
WEIGHTS = {"add": 4, "sub": 4, "mul": 3, "compare": 2, "reverse": 2, "spell": 1.5,
           "count": 2, "units": 1.5}
# Key includes the template (phrasing split) for the small problem spaces.
SPLIT_BY_PHRASING = {"mul", "reverse", "spell", "count", "units"}
HELDOUT_PER_MILLE = {"add": 20, "sub": 20, "compare": 20, "mul": 80, "reverse": 100,
                     "spell": 100, "count": 80, "units": 100}


class Example:
    __slots__ = ("task", "question", "answer", "key", "template")

    def __init__(self, task, question, answer, key, template):
        self.task, self.question, self.answer = task, question, answer
        self.key, self.template = key, template

    def to_dict(self):
        return {"task": self.task, "question": self.question, "answer": self.answer}

    def __repr__(self):
        return "Example(%r, %r, %r)" % (self.task, self.question, self.answer)


def render_prompt(question):
    """The prompt text gemma4c renders for one user message (Gemma 4 format)."""
    return BOS + SOT + "user\n" + question.strip() + EOT + "\n" + SOT + "model\n"


def render_reply(answer):
    """The model turn the model is trained to produce after the prompt."""
    return answer + EOT


def is_correct(reply, answer):
    """Exact match: the reply (special tokens removed, trimmed) is the answer."""
    return reply.replace(EOT, "").strip() == answer


def contains_answer(reply, answer):
    """The answer's number or word appears in the reply as a whole word."""
    words = reply.replace(EOT, " ").replace(",", " ").replace(".", " ").split()
    return answer in words


def _digits_number(rng, max_digits, min_digits=1):
    d = rng.randint(min_digits, max_digits)
    lo = 0 if d == 1 else 10 ** (d - 1)
    return rng.randint(lo, 10 ** d - 1)


def _plural(n, one, many):
    return one if n == 1 else many


def _sample_task(rng, task):
    """(key parts without template, template index, question, answer)."""
    t = TEMPLATES[task]
    ti = rng.randrange(len(t))
    if task in ("add", "sub"):
        a, b = _digits_number(rng, 3), _digits_number(rng, 3)
        if task == "sub" and a < b:
            a, b = b, a
        ans = a + b if task == "add" else a - b
        return (a, b), ti, t[ti].format(a=a, b=b), str(ans)
    if task == "mul":
        a, b = rng.randint(2, 99), rng.randint(2, 12)
        if rng.random() < 0.5:
            a, b = b, a
        return (a, b), ti, t[ti].format(a=a, b=b), str(a * b)
    if task == "compare":
        a = _digits_number(rng, 4)
        r = rng.random()
        if r < 0.4:  # same length, often a shared prefix: the hard cases
            s = list(str(a))
            i = rng.randrange(len(s))
            s[i] = str(rng.randint(1 if i == 0 and len(s) > 1 else 0, 9))
            b = int("".join(s))
        else:
            b = _digits_number(rng, 4)
        if a == b:
            b = a + 1
        text, which = t[ti]
        q = text.format(a=a, b=b)
        ans = {"max": str(max(a, b)), "min": str(min(a, b)),
               "gt": "Yes" if a > b else "No", "lt": "Yes" if a < b else "No"}[which]
        return (a, b), ti, q, ans
    if task in ("reverse", "spell"):
        w = WORDS[rng.randrange(len(WORDS))]
        ans = w[::-1] if task == "reverse" else "-".join(w)
        return (w,), ti, t[ti].format(w=w), ans
    if task == "count":
        w = WORDS[rng.randrange(len(WORDS))]
        text, which = t[ti]
        if which == "len":
            return (w,), ti, text.format(w=w), str(len(w))
        if rng.random() < 0.8:
            c = w[rng.randrange(len(w))]
        else:
            c = "abcdefghijklmnopqrstuvwxyz"[rng.randrange(26)]
        return (w, c), ti, text.format(w=w, c=c), str(w.count(c))
    if task == "units":
        ui = rng.randrange(len(UNITS))
        one, many, small, f = UNITS[ui]
        n = rng.randint(1, 20)
        q = t[ti].format(n=n, big=_plural(n, one, many), small=small)
        return (ui, n), ti, q, str(n * f)
    raise ValueError("unknown task %r" % task)


def heldout_key(task, parts, ti):
    key = (task,) + tuple(parts) + ((ti,) if task in SPLIT_BY_PHRASING else ())
    return "|".join(map(str, key))


def is_heldout_key(task, key):
    h = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "little") % 1000
    return h < HELDOUT_PER_MILLE[task]


def sample(rng, task):
    parts, ti, q, a = _sample_task(rng, task)
    return Example(task, q, a, heldout_key(task, parts, ti), ti)


def _task_picker(rng):
    total = float(sum(WEIGHTS[t] for t in TASKS))
    cum, acc = [], 0.0
    for t in TASKS:
        acc += WEIGHTS[t] / total
        cum.append(acc)

    def pick():
        r = rng.random()
        for t, c in zip(TASKS, cum):
            if r < c:
                return t
        return TASKS[-1]
    return pick


def train_examples(n, seed=1234):
    """n training examples (a stream of the task mixture; no held-out key)."""
    rng = random.Random("train-%d" % seed)
    pick = _task_picker(rng)
    out = []
    while len(out) < n:
        ex = sample(rng, pick())
        if not is_heldout_key(ex.task, ex.key):
            out.append(ex)
    return out


def heldout_examples(n=500, seed=26):
    """n distinct held-out questions, tasks in turn (equal shares)."""
    rng = random.Random("heldout-%d" % seed)
    out, seen = [], set()
    i = 0
    while len(out) < n:
        task = TASKS[i % len(TASKS)]
        for _ in range(100000):
            ex = sample(rng, task)
            if is_heldout_key(task, ex.key) and ex.question not in seen:
                break
        else:
            raise RuntimeError("no held-out question found for %s" % task)
        seen.add(ex.question)
        out.append(ex)
        i += 1
    return out


def all_corpus_texts():
    """Texts that together contain every token the corpus can produce: each
    template with each word/unit, the digits and letters in context. Used to
    find the vocabulary rows the model uses (the others are pruned)."""
    texts = []
    rng = random.Random("vocab")
    for task in TASKS:
        for _ in range(4000):
            ex = sample(rng, task)
            texts.append(render_prompt(ex.question) + render_reply(ex.answer))
    for w in WORDS:
        for task in ("reverse", "spell"):
            for ti, t in enumerate(TEMPLATES[task]):
                ans = w[::-1] if task == "reverse" else "-".join(w)
                texts.append(render_prompt(t.format(w=w)) + render_reply(ans))
        for ti, (t, which) in enumerate(TEMPLATES["count"]):
            for c in sorted(set(w)) + ["z", "q", "x"]:
                texts.append(render_prompt(t.format(w=w, c=c)))
    for one, many, small, f in UNITS:
        for t in TEMPLATES["units"]:
            for n in (1, 2, 13, 20):
                texts.append(render_prompt(t.format(n=n, big=_plural(n, one, many), small=small)))
    return texts


def self_test():
    a = train_examples(2000)
    b = train_examples(2000)
    assert [x.question for x in a] == [x.question for x in b], "not deterministic"
    h = heldout_examples(500)
    assert len(h) == 500 and len({x.question for x in h}) == 500
    hkeys = {x.key for x in h}
    big = train_examples(200000)
    overlap = [x for x in big if x.key in hkeys]
    assert not overlap, "held-out key in training: %r" % overlap[:3]
    hq = {x.question for x in h}
    assert not any(x.question in hq for x in big), "held-out question in training"
    for x in h + a[:500]:
        assert x.answer and x.answer == x.answer.strip()
        assert is_correct(x.answer + EOT, x.answer)
        assert contains_answer("The answer is %s." % x.answer, x.answer)
    # arithmetic answers are right
    for x in a:
        if x.task == "add" and "+" in x.question and "=" in x.question:
            l = x.question.split("=")[0].split("+")
            assert int(l[0]) + int(l[1]) == int(x.answer)
    counts = {}
    for x in h:
        counts[x.task] = counts.get(x.task, 0) + 1
    assert set(counts) == set(TASKS) and min(counts.values()) >= 62, counts
    # add/sub/compare: the held-out problem never appears in training at all
    hprob = {(x.task, x.key) for x in h if x.task in ("add", "sub", "compare")}
    assert not any((x.task, x.key) in hprob for x in big)
    print("demo_corpus self-test: ok (%d held-out, per task %s)" % (len(h), counts))


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--show", type=int, default=0)
    ap.add_argument("--heldout", type=int, default=0)
    ap.add_argument("--jsonl", action="store_true", help="print JSON lines")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args(argv)
    if a.self_test:
        self_test()
    for ex in (train_examples(a.show) if a.show else []) + \
              (heldout_examples(a.heldout) if a.heldout else []):
        print(json.dumps(ex.to_dict()) if a.jsonl else "%-8s %-50s -> %s" % (ex.task, ex.question, ex.answer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
