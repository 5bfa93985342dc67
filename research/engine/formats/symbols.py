"""Instrument and contract symbols: ES, MINUTEDATAEXPORT, ESZ4, ESZ24, spreads, file names.

A symbol is classified once per distinct value (factorized), never per row. The root of a
contract is the longest instrument symbol it starts with (MESZ4 is MES, not ES).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from research.engine.instruments import ALIASES, INSTRUMENTS

MONTH_CODES = "FGHJKMNQUVXZ"  # January ... December, the exchanges' contract month letters
_ROOTS = sorted((*INSTRUMENTS, *ALIASES), key=len, reverse=True)
_MONTH_YEAR = re.compile(rf"[{MONTH_CODES}]\d{{1,2}}")
_SPREAD_JOIN = re.compile(r"[-:_ /]")
# NinjaTrader: "ES 12-24.Last.txt"; FirstRate: "ES_M24_1min.txt"; Kibot: "ES.txt".
_NINJA_NAME = re.compile(r"([A-Z0-9]+) (\d{2})-(\d{2})\b")
_FIRSTRATE_NAME = re.compile(rf"([A-Z0-9]+)_([{MONTH_CODES}])(\d{{2}})_")
_PLAIN_NAME = re.compile(r"([A-Z0-9]+)(?=[ _.\-]|$)")

KIND_INSTRUMENT, KIND_CONTRACT, KIND_SPREAD, KIND_OTHER = range(4)


@dataclass(frozen=True, slots=True)
class Symbol:
    """One distinct symbol: its name as read (stripped, upper-cased), root and contract.

    >>> parse_symbol(" esz4 ")
    Symbol(name='ESZ4', root='ES', contract='ESZ4', kind=1)
    """

    name: str
    root: str | None  # the instrument table's symbol (aliases resolved), None if unknown
    contract: str  # "" when the symbol names no contract month
    kind: int  # KIND_INSTRUMENT, KIND_CONTRACT, KIND_SPREAD or KIND_OTHER


def parse_symbol(value: object) -> Symbol:
    name = str(value).strip().upper()
    if name in INSTRUMENTS or name in ALIASES:
        return Symbol(name, ALIASES.get(name, name), "", KIND_INSTRUMENT)
    root = _contract_root(name)
    if root is not None:
        return Symbol(name, root, name, KIND_CONTRACT)
    legs = [leg for leg in _SPREAD_JOIN.split(name) if leg]
    if len(legs) > 1 and all(_contract_root(leg) or leg in INSTRUMENTS for leg in legs):
        return Symbol(name, _contract_root(legs[0]) or legs[0], name, KIND_SPREAD)
    return Symbol(name, None, "", KIND_OTHER)


def _contract_root(name: str) -> str | None:
    for root in _ROOTS:
        if name.startswith(root) and _MONTH_YEAR.fullmatch(name[len(root):]):
            return ALIASES.get(root, root)
    return None


def classify(column: pd.Series) -> tuple[np.ndarray, list[Symbol]]:
    """Per-row codes into the distinct symbols (-1 where missing), and those symbols."""
    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    return codes, [parse_symbol(value) for value in uniques]


def symbol_from_file_name(file: Path) -> str | None:
    """The contract (ESZ4) or instrument (ES) a vendor names a file after, if any.

    >>> symbol_from_file_name(Path("ES 12-24.Last.txt")), symbol_from_file_name(Path("ES.txt"))
    ('ESZ4', 'ES')
    """
    stem = file.name.upper()
    ninja = _NINJA_NAME.match(stem)
    if ninja and ninja.group(1) in INSTRUMENTS and 1 <= int(ninja.group(2)) <= 12:
        return f"{ninja.group(1)}{MONTH_CODES[int(ninja.group(2)) - 1]}{ninja.group(3)[-1]}"
    firstrate = _FIRSTRATE_NAME.match(stem)
    if firstrate and firstrate.group(1) in INSTRUMENTS:
        return f"{firstrate.group(1)}{firstrate.group(2)}{firstrate.group(3)[-1]}"
    plain = _PLAIN_NAME.match(stem)
    if plain and parse_symbol(plain.group(1)).kind in (KIND_INSTRUMENT, KIND_CONTRACT):
        return plain.group(1)  # ES.txt, ESH24.txt
    return None


def symbol_from_path(file: Path, folders: int = 3) -> tuple[str | None, str]:
    """The instrument or contract a file's name, else one of its `folders` nearest folders'
    names, starts with, and where it came from ("file name" or "folder name").

    >>> symbol_from_path(Path("glbx-mdp3/ES/2024.csv"))
    ('ES', 'folder name')
    >>> symbol_from_path(Path("data/ES_1min_sample.csv"))
    ('ES', 'file name')
    """
    named = symbol_from_file_name(file)
    if named is not None:
        return named, "file name"
    for folder in list(file.parents)[:folders]:
        plain = _PLAIN_NAME.match(folder.name.upper())
        if plain and parse_symbol(plain.group(1)).kind == KIND_INSTRUMENT:
            return plain.group(1), "folder name"
    return None, ""


def expiry_ranks(contracts: list[str], last_years: list[int]) -> np.ndarray | None:
    """Each contract's place in expiry order (0 = first to expire), or None when a name is
    no contract symbol (Databento's `id123` without a symbol column). A one-digit year is
    the decade that puts it at or after the year of the contract's last bar (`last_years`).

    >>> expiry_ranks(["ESH5", "ESZ4"], [2024, 2024]).tolist()
    [1, 0]
    """
    keys = []
    for name, last_year in zip(contracts, last_years, strict=True):
        symbol = parse_symbol(name)
        if symbol.kind != KIND_CONTRACT or symbol.root is None:
            return None
        tail = _MONTH_YEAR.search(name[len(_root_prefix(name)):])
        if tail is None:
            return None
        month = MONTH_CODES.index(tail.group()[0]) + 1
        digits = tail.group()[1:]
        if len(digits) == 2:
            year = 2000 + int(digits)
        else:
            year = last_year - last_year % 10 + int(digits)
            year += 10 if year < last_year else 0
        keys.append((year, month))
    order = sorted(range(len(keys)), key=lambda index: keys[index])
    ranks = np.empty(len(keys), dtype=np.int64)
    ranks[order] = np.arange(len(keys))
    return ranks


def _root_prefix(name: str) -> str:
    for root in _ROOTS:
        if name.startswith(root) and _MONTH_YEAR.fullmatch(name[len(root):]):
            return root
    return ""
