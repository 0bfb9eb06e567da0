"""Text normalization shared by triage training and serving, so the two can never drift.

Carriers word the same thing in wildly different ways: customer-facing sentences, ALL-CAPS
mainframe lines full of abbreviations (``CNEE ADDR INCORR``), driver notes, other languages,
and codes that are sometimes words (``NOT_HOME``) and sometimes opaque (``H3``). Before any
rule or model looks at an event, it becomes one plain string:

* Unicode folded to ASCII (``é`` → ``e``, ``ł`` → ``l``, ``ß`` → ``ss``), lower case;
* word-like codes split into words (``ADDRESS_INCOMPLETE`` → ``address incomplete``,
  ``RefusedByConsignee`` → ``refused by consignee``); opaque codes (``H3``, ``417``) dropped:
  they mean something only inside one carrier's table, which is the code table's job;
* legacy abbreviations expanded from a table (``cnee`` → ``consignee``);
* digits collapsed to ``0`` so times, dates and house numbers do not become vocabulary;
* British and American spellings unified (``centre``/``center``, ``canceled``/``cancelled``);
* carrier brand names become ``carrier`` and well-known place names ``place`` (``UPS`` →
  ``carrier``, ``LEIPZIG - GERMANY`` → ``place place``): a model that learns "ups" or "leipzig"
  as evidence for a category has learnt one carrier's network, which is exactly what a carrier
  never seen does not share. The lists are general knowledge, not any evaluation data.

Everything here is a pure function of the event, cheap enough for the single-event path.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from functools import lru_cache

# Legacy and handheld abbreviations → words. General logistics shorthand; one row per form.
ABBREVIATIONS: Mapping[str, str] = {
    "addr": "address",
    "adr": "address",
    "addresse": "address",
    "adress": "address",
    "apt": "apartment",
    "arr": "arrived",
    "arrvd": "arrived",
    "att": "attempt",
    "attmpt": "attempt",
    "bldg": "building",
    "chk": "check",
    "clr": "clearance",
    "clrnc": "clearance",
    "cnee": "consignee",
    "cnsgn": "consignee",
    "coll": "collection",
    "compl": "completed",
    "conn": "connection",
    "cstms": "customs",
    "ctr": "center",
    "ctry": "country",
    "cust": "customer",
    "decl": "declaration",
    "del": "delivery",
    "deliv": "delivery",
    "dept": "departed",
    "dg": "dangerous goods",
    "dlv": "delivery",
    "dlvd": "delivered",
    "dlvr": "deliver",
    "dlvy": "delivery",
    "dmg": "damaged",
    "dmgd": "damaged",
    "docs": "documents",
    "dox": "documents",
    "dest": "destination",
    "exc": "exception",
    "excp": "exception",
    "fac": "facility",
    "hazmat": "hazardous material",
    "incorr": "incorrect",
    "info": "information",
    "insuff": "insufficient",
    "intl": "international",
    "lbl": "label",
    "msg": "message",
    "nr": "number",
    "orig": "origin",
    "pcl": "parcel",
    "pcs": "pieces",
    "pkg": "package",
    "pkgs": "packages",
    "pmt": "payment",
    "pu": "pickup",
    "pymt": "payment",
    "rcpt": "recipient",
    "rcvd": "received",
    "rcvr": "receiver",
    "recip": "recipient",
    "recd": "received",
    "ret": "return",
    "rtn": "return",
    "rts": "return to sender",
    "sec": "security",
    "shpr": "shipper",
    "shpt": "shipment",
    "shipmt": "shipment",
    "ste": "suite",
    "svc": "service",
    "undel": "undeliverable",
    "veh": "vehicle",
    "whse": "warehouse",
    "wx": "weather",
    "cod": "cash on delivery",
    "tmrw": "tomorrow",
    "smth": "something",
    "pers": "person",
    "cant": "cannot",
    "dont": "do not",
    "didnt": "did not",
    "wont": "will not",
    "couldnt": "could not",
}

# Spelling variants → one form (applied per word, after abbreviations).
SPELLING: Mapping[str, str] = {
    "centre": "center",
    "centres": "centers",
    "canceled": "cancelled",
    "canceling": "cancelling",
    "cancellation": "cancellation",
    "authorised": "authorized",
    "recognise": "recognize",
    "recognised": "recognized",
    "organisation": "organization",
    "labelled": "labeled",
    "cheque": "check",
    "favour": "favor",
    "neighbour": "neighbor",
    "neighbours": "neighbors",
    "travelling": "traveling",
}


def _wordset(*lines: str) -> frozenset[str]:
    """A set of words written as lines of space-separated words (long lists stay readable)."""
    return frozenset(" ".join(lines).split())


# Carrier brands (single words after folding) and two-word brands (``royal mail``).
CARRIER_BRANDS: frozenset[str] = _wordset(
    "ups dhl fedex usps tnt dpd gls hermes evri postnl bpost colissimo chronopost geodis "
    "parcelforce yodel purolator ontrac lasership aramex inpost correos seur mrw brt sda "
    "postnord budbee instabox cainiao yunexpress sagawa yamato startrack auspost nzpost "
    "canpar loomis dachser schenker kuehne nagel xpo estes saia odfl abf rrts fedx amazon "
    "shipx packeta zasilkovna ppl posti postex omniva venipak sameday fan cargus speedy econt "
    "acs elta ptt ems sfexpress jnt postnova parcelo velox lowlands atlas swiftair"
)
CARRIER_BRAND_PAIRS: frozenset[tuple[str, str]] = frozenset(
    {
        ("royal", "mail"),
        ("deutsche", "post"),
        ("la", "poste"),
        ("poste", "italiane"),
        ("swiss", "post"),
        ("austrian", "post"),
        ("canada", "post"),
        ("australia", "post"),
        ("japan", "post"),
        ("poczta", "polska"),
        ("ceska", "posta"),
        ("an", "post"),
        ("sf", "express"),
        ("china", "post"),
        ("india", "post"),
        ("korea", "post"),
        ("mail", "innovations"),
    }
)
# Countries and large logistics cities: where a scan happened says nothing about what happened.
PLACES: frozenset[str] = _wordset(
    "germany deutschland netherlands nederland holland belgium belgie belgique france poland "
    "polska austria switzerland italy spain portugal denmark sweden norway finland ireland "
    "czech czechia slovakia hungary romania bulgaria greece croatia slovenia lithuania latvia "
    "estonia luxembourg uk england scotland wales britain usa america canada mexico brazil "
    "china japan korea india singapore australia turkey emirates amsterdam rotterdam utrecht "
    "eindhoven tilburg venlo hague antwerp antwerpen brussels bruxelles liege mechelen gent "
    "ghent berlin hamburg munich munchen cologne koln frankfurt leipzig dortmund duisburg "
    "dusseldorf stuttgart hannover hanover bremen nuremberg nurnberg bonn essen kassel paris "
    "lyon marseille lille toulouse roissy warsaw warszawa krakow wroclaw poznan gdansk lodz "
    "katowice prague praha vienna wien zurich basel geneva milan milano rome roma bologna "
    "madrid barcelona valencia lisbon copenhagen stockholm oslo helsinki dublin london "
    "birmingham manchester coventry budapest bucharest athens louisville memphis indianapolis "
    "chicago atlanta dallas houston ontario newark philadelphia cincinnati hong kong shanghai "
    "shenzhen tokyo seoul dubai sydney toronto montreal"
)
_FOLD = str.maketrans(
    {"ł": "l", "Ł": "L", "ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "œ": "oe", "đ": "d", "ı": "i"}
)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_TOKEN = re.compile(r"[a-z]+|[0-9]+")
_CODE_PART = re.compile(r"[A-Za-z]+")
_DIGITS = re.compile(r"[0-9]+")


def fold(text: str) -> str:
    """ASCII-fold and lower-case (accents, Polish and Nordic letters, German sharp s)."""
    text = text.translate(_FOLD)
    text = unicodedata.normalize("NFKD", text)
    return text.encode("ascii", "ignore").decode("ascii").lower()


def code_words(code: str | None) -> str:
    """The words inside a code that *is* words (``NOT_HOME`` → ``not home``); else ``""``.

    A code is word-like when it has at least one alphabetic part of four or more letters
    (``DLV/OK`` and ``H3`` are opaque; ``CUSTOMS_HOLD``, ``RefusedByConsignee`` are not).
    """
    if not code:
        return ""
    spaced = _CAMEL.sub(" ", str(code))
    parts = _CODE_PART.findall(spaced)
    if not any(len(p) >= 4 for p in parts):
        return ""
    return " ".join(p for p in parts if len(p) >= 2)


@lru_cache(maxsize=65536)
def normalize(text: str | None) -> str:
    """One carrier text in the shared normalized form (see the module docstring)."""
    if not text:
        return ""
    spaced = _CAMEL.sub(" ", str(text))
    tokens = _TOKEN.findall(fold(spaced))
    out: list[str] = []
    for tok in tokens:
        if tok[0].isdigit():
            out.append("0")
            continue
        word = ABBREVIATIONS.get(tok, tok)
        word = SPELLING.get(word, word)
        if word in CARRIER_BRANDS:
            word = "carrier"
        elif word in PLACES:
            word = "place"
        elif out and (out[-1], word) in CARRIER_BRAND_PAIRS:
            out[-1] = "carrier"
            continue
        out.append(word)
    return " ".join(out)


def event_text(description: str | None, code: str | None = None) -> str:
    """Normalized text of one event: its description plus the words of a word-like code."""
    words = code_words(code)
    desc = normalize(description)
    if words:
        norm_code = normalize(words)
        if norm_code and norm_code not in desc:
            return f"{desc} {norm_code}".strip()
    return desc


def words(text: str) -> list[str]:
    """Tokens of an already normalized text."""
    return text.split()


__all__ = [
    "ABBREVIATIONS",
    "CARRIER_BRANDS",
    "PLACES",
    "SPELLING",
    "code_words",
    "event_text",
    "fold",
    "normalize",
    "words",
]
