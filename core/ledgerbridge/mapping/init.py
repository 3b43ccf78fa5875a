"""``ledgerbridge mappings init``: a starter mapping from the organisation and the store.

A new integrator should not hunt for tax ids and account ids with curl.  This reads the
target's master data through ``Target.lookups`` (taxes and tax groups, accounts, bank
accounts, payment modes, currencies, custom fields) and what the source's recent orders
use through ``Source.describe`` (tax titles and rates, gateways, statuses, currencies),
matches them, and writes a mapping that extends the shipped preset: every lookup filled
where a match is found, a commented ``# TODO`` naming what to do where none is.

The matching is deliberately plain -- a tax by its percentage (then by a shared word of
its name), a gateway's deposit account by a shared word of the account's name, else the
organisation's undeposited-funds account -- so every choice is written beside its entry
for a person to check.  Nothing here writes to either platform.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..contracts.describe import SeenTax, SourceDescription
from ..contracts.target import FieldNeed, SetupProblem
from ..plan import LookupEntry, LookupKind

KINDS = (
    LookupKind.TAXES,
    LookupKind.ACCOUNTS,
    LookupKind.BANK_ACCOUNTS,
    LookupKind.PAYMENT_MODES,
    LookupKind.CURRENCIES,
    LookupKind.CUSTOM_FIELDS,
)

# A gateway's payment mode when the preset does not name the gateway: by a word in its name.
_MODE_WORDS = (
    (("paypal",), "others"),
    (("stripe", "card", "cc", "credit", "square", "shopify_payments"), "creditcard"),
    (("cod", "cash"), "cash"),
    (("bacs", "bank", "transfer", "wire", "sepa"), "banktransfer"),
    (("cheque", "check"), "check"),
)


@dataclass
class MasterData:
    """The organisation's lookups, by kind."""

    entries: dict[LookupKind, list[LookupEntry]] = field(default_factory=dict)

    def of(self, kind: LookupKind) -> list[LookupEntry]:
        return self.entries.get(kind, [])


@dataclass(frozen=True)
class StarterInput:
    preset: str  # the shipped preset the starter extends
    preset_methods: dict[str, str]  # gateway -> payment mode the preset already names
    fields: list[FieldNeed]  # the custom fields the preset writes
    problems: list[SetupProblem]  # what the target says the organisation lacks for them
    target: str  # connection name, for comments
    source: str | None
    organization: str
    master: MasterData
    seen: SourceDescription | None


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", text.lower()) if len(w) > 2}


def _q(text: str) -> str:
    """A YAML double-quoted scalar."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _num(value: Decimal) -> str:
    """``10`` for Decimal("10.00"), ``7.5`` for 7.50 (never ``1E+1``)."""
    return f"{value.normalize():f}"


def _percent(entry: LookupEntry) -> Decimal | None:
    raw = entry.details.get("percentage")
    try:
        return None if raw is None else Decimal(str(raw))
    except ArithmeticError:
        return None


def match_tax(tax: SeenTax, taxes: list[LookupEntry]) -> tuple[LookupEntry | None, str]:
    """The organisation's tax for a source tax, and why (or why none)."""
    named = [t for t in taxes if _words(t.name) & _words(tax.title)]
    if tax.rate is None:
        exact = [t for t in taxes if t.name.strip().lower() == tax.title.strip().lower()]
        found = exact or named
        if len(found) == 1:
            return found[0], f"by name ({found[0].name})"
        return None, "the store states no rate and no tax has the same name"
    pct = tax.rate * 100
    same = [t for t in taxes if _percent(t) == pct]
    if not same:
        return None, f"no tax of {_num(pct)} % in the organisation"
    both = [t for t in same if t in named]
    pick = (both or same)[0]
    why = f"{pick.name}, {_num(pct)} %"
    if len(both or same) > 1:
        why += f"; {len(both or same)} taxes have this rate, check it is the right one"
    return pick, why


def payment_mode(gateway: str, preset: dict[str, str]) -> str:
    if gateway in preset:
        return preset[gateway]
    words = set(re.split(r"[^a-z0-9_]+", gateway.lower()))
    for keys, mode in _MODE_WORDS:
        if any(k in words or k in gateway.lower() for k in keys):
            return mode
    return "others"


def deposit_account(gateway: str, master: MasterData) -> tuple[LookupEntry | None, str]:
    banks = master.of(LookupKind.BANK_ACCOUNTS)
    words = _words(gateway.replace("_", " "))
    named = [b for b in banks if _words(b.name) & words]
    if named:
        return named[0], f"{named[0].name}, named like the gateway"
    accounts = master.of(LookupKind.ACCOUNTS)
    undeposited = [a for a in accounts if "undeposited" in a.name.lower()]
    if undeposited:
        return undeposited[0], (
            f"{undeposited[0].name}: no bank account is named like the gateway; "
            "check: use the gateway's clearing account if it has one"
        )
    return None, "no bank account named like the gateway and no undeposited-funds account"


def sales_account(master: MasterData) -> LookupEntry | None:
    income = [a for a in master.of(LookupKind.ACCOUNTS) if a.details.get("type") == "income"]
    sales = [a for a in income if "sales" in a.name.lower()]
    found = sales or income
    return found[0] if found else None


def render(spec: StarterInput) -> tuple[str, list[str]]:
    """The starter mapping's text, and the TODOs it holds (for the command's summary)."""
    todos: list[str] = []
    master, seen = spec.master, spec.seen
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    source_note = (
        f"{seen.orders} recent orders of {spec.source}" if seen and spec.source else "no source"
    )
    out = [
        f"# Starter mapping written by `ledgerbridge mappings init` on {stamp} from",
        f"# organisation {spec.organization} ({spec.target}) and {source_note}.",
        "# Each entry says what it matched; each `# TODO` what could not be matched.",
        f"# Check it with: ledgerbridge mappings validate THIS_FILE --against {spec.target}",
        f"extends: {spec.preset}",
    ]
    out += _custom_fields(spec, todos)
    sales = sales_account(master)
    out += ["", "lookups:", "  taxes:"]
    out += _taxes(spec, todos)
    out += ["  payment_methods:"]
    out += _methods(spec, todos)
    out += ["  fee_accounts:"]
    if sales is not None:
        out.append(f"    default: {_q(sales.target_id)}  # {sales.name}: tips, fees, duties")
    else:
        todos.append("no income account found for fee lines")
        out.append("    entries: {}  # TODO: no income account found for fee lines")
    out += _currencies(spec, todos)
    if sales is not None:
        out += [
            "",
            "refunds:",
            f"  adjustment_account_id: {_q(sales.target_id)}  # {sales.name}",
            "summary:",
            "  sales_accounts:",
            f"    default: {_q(sales.target_id)}  # {sales.name}",
        ]
    unmapped = seen.unmapped_statuses if seen else []
    if unmapped:
        pairs = ", ".join(f"{s}: open" for s in unmapped)
        todo = (
            f"the store uses statuses with no meaning yet ({', '.join(unmapped)}): their orders "
            f"are not posted until {spec.source}'s settings say what they mean, e.g. "
            f"status_map: {{{pairs}}}"
        )
        todos.append(todo)
        out += ["", f"# TODO: {todo}"]
    return "\n".join(out) + "\n", todos


def _custom_fields(spec: StarterInput, todos: list[str]) -> list[str]:
    """The preset's custom fields the target says the organisation lacks, as TODOs (and
    commented-out ``null`` lines that turn them off: ``null`` drops an inherited key)."""
    wanted = {need.where: need for need in spec.fields}
    lacking: dict[str, list[SetupProblem]] = {}
    for problem in spec.problems:
        if problem.where in wanted:
            lacking.setdefault(problem.where, []).append(problem)
        else:
            todos.append(f"{spec.target} {problem.where}: {problem.message}")
    if not lacking:
        return []
    out = ["", "# The preset writes custom fields the organisation lacks:"]
    for where, problems in lacking.items():
        for problem in problems:
            todos.append(f"{problem.message} ({where})")
            out.append(f"# TODO: {problem.message}")
        if problems[0].fix:
            out.append(f"#   fix: {problems[0].fix}")
    out.append("# or stop writing them by uncommenting:")
    sections: dict[str, list[str]] = {}
    for where in lacking:
        section = where.split(".")[0]
        sections.setdefault(section, []).append(wanted[where].name)
    for section, names in sections.items():
        out += [f"# {section}:", "#   custom_fields:"]
        out += [f"#     {name}: null" for name in dict.fromkeys(names)]
    return out


def _taxes(spec: StarterInput, todos: list[str]) -> list[str]:
    taxes = spec.master.of(LookupKind.TAXES)
    entries: list[str] = []
    for tax, count in spec.seen.taxes.most_common() if spec.seen else []:
        if tax.rate is not None and tax.rate == 0:
            continue
        found, why = match_tax(tax, taxes)
        label = f"{tax.title} ({tax.rate})" if tax.rate is not None else tax.title
        if found is None:
            todo = f"source tax {label}, on {count} orders: {why}; add its tax_id"
            todos.append(todo)
            entries.append(f"      # TODO: {todo}")
            continue
        rate = f", rate: {_num(tax.rate)}" if tax.rate is not None else ""
        entries.append(
            f"      - {{title: {_q(tax.title)}{rate}, tax_id: {_q(found.target_id)}}}  # {why}"
        )
    if spec.seen is None:
        todos.append("no --source: list the store's taxes (title, rate, tax_id)")
        entries += [
            "      # TODO: no --source given: list the store's taxes, e.g.",
            '      # - {title: "VAT", rate: 0.2, tax_id: "<an id below>"}',
        ]
    filled = any(e.lstrip().startswith("- ") for e in entries)
    out = ["    entries:" if filled else "    entries: []", *entries]
    if taxes:
        out.append("      # the organisation's taxes:")
        for t in taxes:
            pct = _percent(t)
            out.append(
                f"      #   {t.target_id}  {t.name} ({_num(pct) if pct is not None else '?'} %)"
            )
    return out


def _methods(spec: StarterInput, todos: list[str]) -> list[str]:
    entries: list[str] = []
    for gateway, count in spec.seen.gateways.most_common() if spec.seen else []:
        mode = payment_mode(gateway, spec.preset_methods)
        account, why = deposit_account(gateway, spec.master)
        if account is None:
            todo = f"gateway {gateway} ({count} orders): {why}; add its account_id"
            todos.append(todo)
            entries.append(f"      {_q(gateway)}: {{payment_mode: {mode}}}  # TODO: {todo}")
        else:
            entries.append(
                f"      {_q(gateway)}: {{payment_mode: {mode}, account_id: "
                f"{_q(account.target_id)}}}  # {why}"
            )
    out = ["    entries:" if entries else "    entries: {}", *entries]
    banks = spec.master.of(LookupKind.BANK_ACCOUNTS)
    if banks:
        out.append("      # the organisation's bank accounts:")
        out += [f"      #   {b.target_id}  {b.name}" for b in banks]
    return out


def _currencies(spec: StarterInput, todos: list[str]) -> list[str]:
    known = {c.name for c in spec.master.of(LookupKind.CURRENCIES)}
    used = sorted(spec.seen.currencies) if spec.seen else []
    out = ["  currencies:", f"    accept: [{', '.join(c for c in used if c in known)}]"]
    for code in used:
        if code not in known:
            todo = f"the store sells in {code}, which the organisation has not enabled"
            todos.append(todo)
            out.append(f"    # TODO: {todo} (Settings -> Currencies), then add it here")
    return out


def as_entries(raw: dict[LookupKind, Any]) -> MasterData:
    return MasterData({kind: list(raw.get(kind) or []) for kind in KINDS})


def build_starter(
    config: Path,
    against: str,
    source_name: str | None,
    extends: str | None,
    orders: int,
    connector: Callable[[Path, str, str], Any],
    platform: Callable[[Path, str], str],
) -> tuple[str, list[str], str]:
    """Read both sides and render the starter: (text, TODOs, one-line summary)."""
    import anyio

    from ..config.loader import resolve_mapping
    from ..errors import ConfigError, NotFound
    from .against import field_needs
    from .loader import load_mapping

    target_platform = platform(config, against)
    if extends is None:
        if source_name is None:
            raise ConfigError("give --source CONNECTION, or --extends PRESET without a source")
        extends = f"{platform(config, source_name)}-to-{target_platform}"
    preset = resolve_mapping(extends, Path.cwd())
    if not preset.exists():
        raise ConfigError(f"no preset {extends!r} (mappings/ ships one per source and target)")
    runtime = load_mapping(preset)
    needs = field_needs(runtime)

    async def read() -> tuple[MasterData, list[SetupProblem], str, SourceDescription | None]:
        target = connector(config, against, "target")
        try:
            raw: dict[LookupKind, Any] = {}
            for kind in KINDS:
                try:
                    raw[kind] = await target.lookups(kind)
                except NotFound:
                    raw[kind] = []
            problems = await target.verify_setup([need for need, _ in needs])
            organization = (await target.identity()).organization_id
        finally:
            await target.aclose()
        seen = None
        if source_name is not None:
            src = connector(config, source_name, "source")
            try:
                seen = await src.describe(orders)
            finally:
                await src.aclose()
        return as_entries(raw), problems, organization, seen

    master, problems, organization, seen = anyio.run(read)
    spec = StarterInput(
        preset=extends,
        preset_methods={
            k: v.payment_mode for k, v in runtime.mapping.lookups.payment_methods.entries.items()
        },
        fields=[need for need, _ in needs],
        problems=problems,
        target=against,
        source=source_name,
        organization=organization,
        master=master,
        seen=seen,
    )
    text, todos = render(spec)
    summary = (
        f"extends {extends}; organisation {organization}: "
        f"{len(master.of(LookupKind.TAXES))} taxes, "
        f"{len(master.of(LookupKind.BANK_ACCOUNTS))} bank accounts; "
        + (
            f"{seen.orders} orders read ({seen.unreadable} unreadable), "
            f"{len(seen.taxes)} taxes, {len(seen.gateways)} gateways seen; "
            if seen
            else ""
        )
        + f"{len(todos)} TODO"
        + ("" if len(todos) == 1 else "s")
    )
    return text, todos, summary
