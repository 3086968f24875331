"""A deterministic generator of realistic-looking IT support documents.

Each document is Markdown (``# title``, ``## sections``) or plain text (title line, underlined
headings), 150-400 words: troubleshooting guides, how-tos, known issues, FAQs and policies about
one of ~25 systems, with a unique error code whose meaning is stated once. Every document comes
with a question about that code, so retrieval on the generated corpus can be scored (the
expected document is known). Same ``n`` and ``seed`` give byte-identical files.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

SYSTEMS = [
    ("VPN client", "VPN"), ("Kompas ticketing", "KMP"), ("mail gateway", "MGW"),
    ("label printer", "PRN"), ("guest Wi-Fi", "WIFI"), ("SAP finance", "SAP"),
    ("warehouse scanner", "WHS"), ("laptop docking station", "DCK"), ("OneDrive sync", "ODS"),
    ("Teams telephony", "TMS"), ("badge reader", "BDG"), ("payroll portal", "PAY"),
    ("CRM", "CRM"), ("backup agent", "BKP"), ("MFA app", "MFA"), ("route planner", "RTE"),
    ("vrachtbrief portal", "VBP"), ("intranet", "INT"), ("file share", "FSH"),
    ("expense app", "EXP"), ("meeting room panel", "MRP"), ("fleet tracker", "FLT"),
    ("EDI connector", "EDI"), ("customer portal", "CPT"), ("thin client", "THC"),
]
KINDS = ["troubleshooting", "how-to", "known-issue", "faq", "policy"]
CAUSES = ["an expired device certificate", "a stale cached password", "a full local disk",
          "a blocked firewall port", "a wrong time zone on the device", "a revoked licence",
          "an outdated client version", "a locked service account", "a DNS timeout",
          "a duplicate user profile", "a corrupt configuration file", "a missing group membership"]
ACTIONS = ["restart the device", "sign out and sign in again", "clear the local cache",
           "reinstall the client from the software centre", "reconnect on the office network",
           "ask the service desk to reset the account", "update to the latest release",
           "check the cable and the power supply", "remove and re-add the device in the portal"]
TEAMS = ["the service desk", "the network team", "the workplace team", "application support",
         "the security office", "the warehouse key users", "the finance key users"]
FILLER = [
    "This applies to all sites, including the distribution centres in Venlo and Tilburg.",
    "Log a ticket in Kompas when the steps below do not solve the problem.",
    "Always mention the device name, your location and the exact time the problem started.",
    "Changes to this procedure follow the normal change management process.",
    "Most users never see this message; it usually follows a password change or an update.",
    "Do not share screenshots that show customer data in tickets or chat.",
    "Outside office hours the on-call engineer handles priority 1 incidents only.",
    "The self-service portal shows the status of every open ticket.",
    "Keep the device connected to power while an update is installing.",
    "If several colleagues report the same symptom, the service desk opens a major incident.",
]


@dataclass(frozen=True)
class GeneratedDoc:
    path: str  # relative to the corpus root
    title: str
    code: str
    question: str
    text: str


def _sentences(rng: random.Random, system: str, count: int) -> list[str]:
    out = []
    for _ in range(count):
        pick = rng.random()
        if pick < 0.4:
            out.append(rng.choice(FILLER))
        elif pick < 0.7:
            out.append(f"To solve most {system} problems, {rng.choice(ACTIONS)} and wait "
                       f"{rng.randint(2, 30)} minutes before you try again.")
        else:
            out.append(f"Contact {rng.choice(TEAMS)} if the {system} still fails after "
                       f"{rng.randint(2, 5)} attempts; they answer within "
                       f"{rng.choice(['one hour', 'four hours', 'one working day'])}.")
    return out


def paragraph(rng: random.Random, system: str, sentences: int = 4) -> str:
    return " ".join(_sentences(rng, system, sentences))


def make_doc(i: int, seed: int) -> GeneratedDoc:
    rng = random.Random(seed * 1_000_003 + i)
    system, abbr = SYSTEMS[i % len(SYSTEMS)]
    kind = KINDS[rng.randrange(len(KINDS))]
    code = f"NW-{abbr}-{i:05d}"
    cause, action = rng.choice(CAUSES), rng.choice(ACTIONS)
    title = f"{system[0].upper()}{system[1:]} {kind.replace('-', ' ')}: error {code}"
    target = rng.randint(140, 330)
    verb = rng.choice(["sign in", "open a report", "sync files", "print", "connect"])
    sections = [
        ("Symptoms", f"Users of the {system} see error {code} when they {verb}. "
                     + paragraph(rng, system, 2)),
        ("Cause", f"Error {code} means {cause}. " + paragraph(rng, system, 2)),
        ("Resolution", f"1. {action.capitalize()}.\n2. {rng.choice(ACTIONS).capitalize()}.\n"
                       f"3. If error {code} comes back, contact {rng.choice(TEAMS)}."),
    ]
    words = sum(len(t.split()) for _, t in sections)
    while words < target:
        extra = paragraph(rng, system, rng.randint(2, 4))
        sections.insert(rng.randint(0, len(sections)), (rng.choice(
            ["Background", "Scope", "Notes", "More information", "Escalation"]), extra))
        words += len(extra.split())
    markdown = rng.random() < 0.6
    if markdown:
        body = f"# {title}\n\n" + "\n\n".join(f"## {h}\n\n{t}" for h, t in sections) + "\n"
    else:
        body = f"{title}\n\n" + "\n\n".join(f"{h}\n{'-' * len(h)}\n{t}" for h, t in sections) + "\n"
    slug = system.lower().replace(" ", "-")
    path = f"{slug}/{kind}-{i:05d}.{'md' if markdown else 'txt'}"
    question = rng.choice([f"What does error {code} mean?",
                           f"Why do I get {code} in the {system}?",
                           f"How do I fix error {code}?"])
    return GeneratedDoc(path, title, code, question, body)


def write_corpus(root: Path, n: int, seed: int) -> list[GeneratedDoc]:
    """Write ``n`` documents under ``root`` (skipped when a matching manifest is there)."""
    docs = [make_doc(i, seed) for i in range(n)]
    manifest = root.with_name(root.name + ".manifest.json")  # beside the corpus, not in it
    wanted = {"n": n, "seed": seed, "version": 1}
    if manifest.is_file() and json.loads(manifest.read_text()) == wanted:
        return docs
    if root.exists():
        shutil.rmtree(root)
    for doc in docs:
        path = root / doc.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(doc.text)
    manifest.write_text(json.dumps(wanted))
    return docs


def chunk_texts(n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` (heading, text) pairs of chunk size (~60-160 words) for synthetic indexes."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        system, abbr = SYSTEMS[i % len(SYSTEMS)]
        head = rng.choice(["Symptoms", "Cause", "Resolution", "Notes", "Escalation"])
        text = (f"Error NW-{abbr}-{i:06d} means {rng.choice(CAUSES)}. "
                + paragraph(rng, system, rng.randint(3, 8)))
        out.append((f"{system} — {head}", text))
    return out


def queries(n: int, seed: int) -> list[str]:
    """``n`` support-style questions over the generated vocabulary."""
    rng = random.Random(seed + 7)
    forms = ["What does error NW-{a}-{i:06d} mean?", "How do I fix the {s} after {c}?",
             "Who do I contact when the {s} fails?", "{s} keeps failing, should I {x}?",
             "error {a} {s} {c}"]
    out = []
    for _ in range(n):
        s, a = rng.choice(SYSTEMS)
        out.append(rng.choice(forms).format(a=a, i=rng.randrange(100_000), s=s,
                                            c=rng.choice(CAUSES), x=rng.choice(ACTIONS)))
    return out
