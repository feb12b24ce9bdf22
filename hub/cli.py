"""The `hub` command. Exit status 0 on success, 2 on bad input with a one-line reason."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, NoReturn, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from hub.config import ConfigError, Settings, export_database_url
from hub.db.engine import build_engine, build_sessionmaker, resolve_database_url
from hub.directory.repository import DirectoryRepository
from hub.errors import HubError

T = TypeVar("T")


def fail(message: str) -> NoReturn:
    print(f"hub: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def database_settings() -> Settings:
    """Settings with a database, starting the embedded server when DATABASE_URL is unset."""
    settings = resolve_database_url(Settings.from_env())
    assert settings.database_url
    export_database_url(settings.database_url)
    return settings


def in_transaction(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = build_engine(settings)
        try:
            async with build_sessionmaker(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def emit(args: argparse.Namespace, data: dict[str, Any], human: str) -> None:
    print(json.dumps(data) if args.json else human)


def parse_uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        fail(f"{what} must be an id like 0b6f…-…, got {value!r}")


# --- commands -------------------------------------------------------------------------------


def cmd_db_upgrade(args: argparse.Namespace) -> None:
    from hub.ops.database import prepare_database

    count = prepare_database(database_settings())
    print(f"database at head; catalogue: {count} questions")


def cmd_org_create(args: argparse.Namespace) -> None:
    from hub.directory.service import DirectoryService, NewOrganization, parse_role

    new = NewOrganization(
        role=parse_role(args.role),
        name=args.name,
        country=args.country,
        address=args.address,
        os_id=args.os_id,
        claim=args.claim,
    )
    settings = database_settings()

    async def work(session: AsyncSession) -> dict[str, Any]:
        org, factory = await DirectoryService(session).create_organization(new)
        out: dict[str, Any] = {"id": str(org.id), "role": org.role.value, "name": org.name}
        if factory is not None:
            out["factory_id"] = str(factory.id)
            out["hub_id"] = factory.hub_id
        return out

    out = in_transaction(settings, work)
    human = f"organisation {out['id']} ({out['role']}, {out['name']})"
    if "factory_id" in out:
        human += f"\nfactory {out['factory_id']} ({out['hub_id']})"
    emit(args, out, human)


def cmd_client_create(args: argparse.Namespace) -> None:
    from hub.directory.service import DirectoryService

    org_id = parse_uuid(args.org, "--org")
    settings = database_settings()

    async def work(session: AsyncSession) -> dict[str, Any]:
        issued = await DirectoryService(session).create_client(
            org_id, args.name, args.redirect_uri or ()
        )
        if args.redirect_uri:
            return {"client_id": issued.client.client_id, "redirect_uris": args.redirect_uri}
        return {"client_id": issued.client.client_id, "client_secret": issued.secret}

    out = in_transaction(settings, work)
    if args.redirect_uri:
        human = (
            f"client_id: {out['client_id']}\n(a public client: people sign in through "
            "/oauth/authorize with PKCE; no secret)"
        )
    else:
        human = (
            f"client_id:     {out['client_id']}\nclient_secret: {out['client_secret']}\n"
            "(the secret is shown only now; the hub keeps a hash of it)"
        )
    emit(args, out, human)


def cmd_client_restrict(args: argparse.Namespace) -> None:
    from sqlalchemy import update

    from hub.directory.models import OAuthClient

    only = not args.off

    async def work(session: AsyncSession) -> int:
        changed = await session.execute(
            update(OAuthClient)
            .where(OAuthClient.client_id == args.client_id)
            .values(trusted_documents_only=only)
        )
        return int(changed.rowcount)  # type: ignore[attr-defined]

    if not in_transaction(database_settings(), work):
        fail(f"no client {args.client_id!r}")
    human = (
        f"{args.client_id}: registered documents only, for tokens issued from now on "
        "(tokens already issued run anything until they expire)"
        if only
        else f"{args.client_id}: any operation, for tokens issued from now on"
    )
    emit(args, {"client_id": args.client_id, "trusted_documents_only": only}, human)


def cmd_documents_add(args: argparse.Namespace) -> None:
    from pathlib import Path

    from hub.documents.registry import register

    files = [Path(name) for name in args.files]
    for path in files:
        if not path.is_file():
            fail(f"no such file: {path}")

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        added = []
        for path in files:
            doc_id, new = await register(session, path.read_text(), args.name or path.stem)
            added.append({"file": str(path), "documentId": doc_id, "new": new})
        return added

    out = in_transaction(database_settings(), work)
    lines = [
        f"{a['documentId']}  {a['file']}{'' if a['new'] else '  (already there)'}" for a in out
    ]
    emit(args, {"documents": out}, "\n".join(lines))


def cmd_documents_list(args: argparse.Namespace) -> None:
    from hub.documents.registry import listed

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        return [
            {"documentId": d.id, "name": d.name, "added": d.created_at.isoformat()}
            for d in await listed(session)
        ]

    out = in_transaction(database_settings(), work)
    lines = [f"{d['documentId']}  {d['name'] or ''}" for d in out] or ["no documents registered"]
    emit(args, {"documents": out}, "\n".join(lines))


def cmd_user_create(args: argparse.Namespace) -> None:
    import getpass

    from hub.accounts.service import Accounts

    org_id = parse_uuid(args.org, "--org")
    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            fail("the two passwords differ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    settings = database_settings()

    async def work(session: AsyncSession) -> dict[str, Any]:
        user = await Accounts(session).create_user(org_id, args.email, password)
        return {"user_id": str(user.id), "email": user.email, "org_id": str(user.org_id)}

    out = in_transaction(settings, work)
    emit(args, out, f"{out['email']} can sign in at /console/ (user {out['user_id']})")


def cmd_keys_rotate(args: argparse.Namespace) -> None:
    from hub.auth import keys

    settings = Settings.from_env()
    kid = keys.rotate(settings.signing_key_file)
    emit(
        args,
        {"kid": kid},
        f"new signing key {kid}; running servers verify its tokens at once and sign with it "
        "after a restart.\nRetire the old key once its last tokens have expired "
        # a key id is base64url and may begin with "-": `--` ends the options
        f"({settings.token_lifetime} s after the restart): hub keys retire -- OLD_KID",
    )


def cmd_keys_retire(args: argparse.Namespace) -> None:
    from hub.auth import keys

    try:
        keys.retire(Settings.from_env().signing_key_file, args.kid)
    except ValueError as exc:
        fail(str(exc))
    emit(args, {"retired": args.kid}, f"retired {args.kid}: tokens it signed are refused now")


def cmd_serve(args: argparse.Namespace) -> None:
    from hub.ops.serve import serve

    serve(
        database_settings(),
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=not args.no_access_log,
    )


def cmd_demo(args: argparse.Namespace) -> None:
    from hub.ops.serve import run_demo

    run_demo(database_settings(), host=args.host, port=args.port, serve_after=not args.no_serve)


def cmd_ledger_public_key(args: argparse.Namespace) -> None:
    from hub.ledger.signing import LedgerKey

    settings = Settings.from_env()
    print(LedgerKey.load_or_create(settings.ledger_key_file, settings.ledger_origin).verifier_key)


def cmd_ledger_export(args: argparse.Namespace) -> None:
    from hub.ledger.export import export

    settings = database_settings()

    async def work(session: AsyncSession) -> dict[str, int]:
        with open(args.out, "w", encoding="utf-8") as out:  # noqa: ASYNC230 (a CLI: nothing else runs)
            return await export(session, out, settings.ledger_origin, _progress("events"))

    counts = in_transaction(settings, work)
    print(
        f"{_line_start(sys.stderr.isatty())}exported {counts['events']} events, "
        f"{counts['checkpoints']} checkpoints and {counts['disclosures']} disclosures "
        f"to {args.out}",
        file=sys.stderr,
    )


def cmd_ledger_checkpoint(args: argparse.Namespace) -> None:
    from hub.ledger.service import LedgerService
    from hub.ledger.signing import LedgerKey

    settings = database_settings()
    key = LedgerKey.load_or_create(settings.ledger_key_file, settings.ledger_origin)

    async def work(session: AsyncSession) -> str:
        service = LedgerService(session)
        await service.digest_disclosures()
        made = await service.checkpoint(key, settings.ledger_origin)
        return (made or await service.latest()).note

    print(in_transaction(settings, work), end="")


def _verifier(value: str) -> Any:
    from pathlib import Path

    from hub.ledger.note import NoteError, Verifier

    text = Path(value).read_text() if Path(value).is_file() else value
    try:
        return Verifier.parse(text)
    except NoteError as exc:
        fail(f"--public-key: {exc}")


def cmd_ledger_verify(args: argparse.Namespace) -> None:
    from hub.ledger.verify import verify

    verifier = _verifier(args.public_key)
    try:
        with open(args.file, encoding="utf-8") as lines:
            report = verify(lines, verifier)
    except OSError as exc:
        fail(f"cannot read {args.file}: {exc.strerror}")
    print(report.summary())
    raise SystemExit(0 if report.ok else 1)


def cmd_ledger_verify_receipt(args: argparse.Namespace) -> None:
    from hub.ledger.verify import verify_receipt

    verifier = _verifier(args.public_key)
    try:
        with open(args.file, encoding="utf-8") as f:
            seq, event, size = verify_receipt(f.read(), verifier)
    except OSError as exc:
        fail(f"cannot read {args.file}: {exc.strerror}")
    except ValueError as exc:
        print(f"FAIL receipt: {exc}")
        raise SystemExit(1) from None
    print(
        f"OK: event {seq} ({event.get('type')} of consent {event.get('consent')} at "
        f"{event.get('at')}) is in the signed log of {size} events"
    )


CSV_ALIASES = {
    "buyerref": "buyer_ref",
    "buyer_ref": "buyer_ref",
    "name": "name",
    "address": "address",
    "country": "country",
    "osid": "os_id",
    "os_id": "os_id",
    "registrationnumber": "registration_number",
    "registration_number": "registration_number",
}


def _csv_records(path: str, needs_ref: bool, errors: list[str]) -> Iterator[tuple[int, Any]]:
    """(line number, SupplierRecord) for each good row; bad rows go to `errors` by line."""
    import csv

    from hub.matching.records import SupplierRecord, clean_record

    try:
        handle = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115 (closed below)
    except OSError as exc:
        fail(f"cannot read {path}: {exc.strerror}")
    with handle:
        reader = csv.DictReader(handle)
        columns = {
            c: CSV_ALIASES.get(c.strip().lower().replace(" ", "")) for c in reader.fieldnames or []
        }
        wanted = {"name", "country"} | ({"buyer_ref"} if needs_ref else set())
        if missing := wanted - set(columns.values()):
            fail(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        for row in reader:
            line = reader.line_num
            values = {columns[k]: (v or "") for k, v in row.items() if columns.get(k)}
            if None in row:
                errors.append(f"line {line}: more fields than columns")
                continue
            raw = SupplierRecord(
                buyer_ref=values.get("buyer_ref") or (f"line-{line}" if not needs_ref else ""),
                name=values.get("name", ""),
                country=values.get("country", ""),
                address=values.get("address") or None,
                os_id=values.get("os_id") or None,
                registration_number=values.get("registration_number") or None,
            )
            try:
                yield line, clean_record(raw, f"line {line}")
            except HubError as exc:
                errors.append(str(exc))


def _batches(items: Iterator[tuple[int, Any]], size: int) -> Iterator[list[tuple[int, Any]]]:
    batch: list[tuple[int, Any]] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def cmd_suppliers_import(args: argparse.Namespace) -> None:
    from hub.matching.models import MatchOutcome
    from hub.matching.repository import SupplierRepository
    from hub.matching.service import MatchingService

    buyer = parse_uuid(args.buyer, "--buyer")
    settings = database_settings()
    errors: list[str] = []
    totals = {o: 0 for o in MatchOutcome}
    seen: set[str] = set()
    progress = _progress("records")

    async def run() -> list[str]:
        engine = build_engine(settings)
        sessions = build_sessionmaker(engine)
        try:
            async with sessions() as session:
                org = await DirectoryRepository(session).organization(buyer)
                if org is None or org.role.value != "BUYER":
                    fail(f"--buyer: no buyer organisation {buyer}")
            done = 0
            for batch in _batches(_csv_records(args.file, True, errors), 500):
                records = []
                for line, record in batch:
                    if record.buyer_ref in seen:
                        errors.append(
                            f"line {line}: buyerRef {record.buyer_ref!r} repeats an earlier line"
                        )
                        continue
                    seen.add(record.buyer_ref)
                    records.append(record)
                # one transaction per batch: a batch is saved whole or not at all
                async with sessions() as session, session.begin():
                    result = await MatchingService(session, settings).upload(
                        buyer, records, complete=False
                    )
                for r in result.records:
                    totals[r.outcome] += 1
                done += len(records)
                if progress:
                    progress(done)
            async with sessions() as session:
                return sorted(set(await SupplierRepository(session).links_of(buyer)) - seen)
        finally:
            await engine.dispose()

    disappeared = asyncio.run(run())
    print(
        f"{_line_start(progress)}{sum(totals.values())} records: "
        f"{totals[MatchOutcome.MATCHED]} matched, "
        f"{totals[MatchOutcome.CREATED]} created, {totals[MatchOutcome.NEEDS_REVIEW]} need review; "
        f"{len(errors)} rows refused; {len(disappeared)} earlier references not in this file"
    )
    for error in errors:
        print(f"  {error}", file=sys.stderr)
    for ref in disappeared[:50]:
        print(f"  not in this file (kept): {ref}", file=sys.stderr)


def cmd_factories_import(args: argparse.Namespace) -> None:
    from hub.matching.importer import DirectoryImport, DirectoryImporter

    settings = database_settings()
    errors: list[str] = []
    outcome = DirectoryImport()
    progress = _progress("rows")

    async def run() -> None:
        engine = build_engine(settings)
        sessions = build_sessionmaker(engine)
        done = 0
        try:
            for batch in _batches(_csv_records(args.file, False, errors), 500):
                async with sessions() as session, session.begin():
                    await DirectoryImporter(session, settings).add([r for _, r in batch], outcome)
                done += len(batch)
                if progress:
                    progress(done)
        finally:
            await engine.dispose()

    asyncio.run(run())
    print(
        f"{_line_start(progress)}{outcome.created} factories added, "
        f"{outcome.existing} already in the directory, "
        f"{len(outcome.review)} close to an existing one (not added), {len(errors)} rows refused"
    )
    for name, why in outcome.review:
        print(f"  review: {name}: {why}", file=sys.stderr)
    for error in errors:
        print(f"  {error}", file=sys.stderr)


def _line_start(progress: object) -> str:
    """Back to the start of the line the progress counter wrote on, when there was one."""
    return "\r" if progress else ""


def _progress(unit: str) -> Callable[[int], None] | None:
    if not sys.stderr.isatty():
        return None
    return lambda n: print(f"\r{n} {unit}…", end="", file=sys.stderr, flush=True)


# --- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hub", description="Compliance Hub")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add_serve_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8000)

    serve = sub.add_parser("serve", help="run the server")
    add_serve_options(serve)
    serve.add_argument(
        "--workers", type=int, default=1, help="server processes (about one per core)"
    )
    serve.add_argument(
        "--no-access-log", action="store_true", help="no line per request (for benchmarks)"
    )
    serve.set_defaults(func=cmd_serve)

    demo = sub.add_parser("demo", help="migrate, load demo data, print tokens, serve")
    add_serve_options(demo)
    demo.add_argument("--no-serve", action="store_true", help="load and print, then exit")
    demo.set_defaults(func=cmd_demo)

    db = sub.add_parser("db", help="database").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)

    org = sub.add_parser("org", help="organisations").add_subparsers(
        dest="org_command", required=True
    )
    org_create = org.add_parser("create", help="create an organisation")
    org_create.add_argument(
        "--role", required=True, help="BUYER, FACTORY, ASSESSOR, AUDITOR or ADMIN"
    )
    org_create.add_argument("--name", required=True)
    org_create.add_argument("--country", help="ISO 3166-1 alpha-2")
    org_create.add_argument("--address")
    org_create.add_argument("--os-id", dest="os_id")
    org_create.add_argument("--claim", help="FACTORY: claim this existing factory (id or hub id)")
    org_create.add_argument("--json", action="store_true")
    org_create.set_defaults(func=cmd_org_create)

    ledger = sub.add_parser("ledger", help="the consent ledger").add_subparsers(
        dest="ledger_command", required=True
    )
    ledger.add_parser("public-key", help="print the checkpoint verifier key").set_defaults(
        func=cmd_ledger_public_key
    )
    ledger_export = ledger.add_parser("export", help="the whole ledger as JSON lines")
    ledger_export.add_argument("--out", required=True)
    ledger_export.set_defaults(func=cmd_ledger_export)
    ledger.add_parser("checkpoint", help="sign a checkpoint now").set_defaults(
        func=cmd_ledger_checkpoint
    )
    ledger_verify = ledger.add_parser("verify", help="check an export offline")
    ledger_verify.add_argument("file")
    ledger_verify.add_argument("--public-key", required=True, help="verifier key, or a file")
    ledger_verify.set_defaults(func=cmd_ledger_verify)
    receipt = ledger.add_parser("verify-receipt", help="check a consent receipt offline")
    receipt.add_argument("file")
    receipt.add_argument("--public-key", required=True, help="verifier key, or a file")
    receipt.set_defaults(func=cmd_ledger_verify_receipt)

    suppliers = sub.add_parser("suppliers", help="buyers' supplier lists").add_subparsers(
        dest="suppliers_command", required=True
    )
    suppliers_import = suppliers.add_parser("import", help="match a buyer's supplier list (CSV)")
    suppliers_import.add_argument("--buyer", required=True, help="the buyer organisation's id")
    suppliers_import.add_argument(
        "file", help="CSV: buyerRef,name,address,country,osId,registrationNumber"
    )
    suppliers_import.set_defaults(func=cmd_suppliers_import)

    factories = sub.add_parser("factories", help="the factory directory").add_subparsers(
        dest="factories_command", required=True
    )
    factories_import = factories.add_parser("import", help="add factories from a CSV, deduplicated")
    factories_import.add_argument(
        "file", help="CSV: name,address,country,os_id,registration_number"
    )
    factories_import.set_defaults(func=cmd_factories_import)

    client = sub.add_parser("client", help="OAuth clients").add_subparsers(
        dest="client_command", required=True
    )
    client_create = client.add_parser("create", help="create a client for an organisation")
    client_create.add_argument("--org", required=True, help="organisation id")
    client_create.add_argument("--name")
    client_create.add_argument(
        "--redirect-uri",
        action="append",
        help="a public client for people's tools (authorization code with PKCE), with where "
        "codes may be sent; repeat for several",
    )
    client_create.add_argument("--json", action="store_true")
    client_create.set_defaults(func=cmd_client_create)
    restrict = client.add_parser(
        "restrict", help="let a client run registered (trusted) documents only"
    )
    restrict.add_argument("client_id")
    restrict.add_argument("--off", action="store_true", help="lift the restriction")
    restrict.add_argument("--json", action="store_true")
    restrict.set_defaults(func=cmd_client_restrict)

    user = sub.add_parser("user", help="people who sign in to the console").add_subparsers(
        dest="user_command", required=True
    )
    user_create = user.add_parser(
        "create", help="a person of an organisation (password on standard input)"
    )
    user_create.add_argument("--org", required=True, help="organisation id")
    user_create.add_argument("--email", required=True)
    user_create.add_argument("--json", action="store_true")
    user_create.set_defaults(func=cmd_user_create)

    documents = sub.add_parser("documents", help="trusted documents").add_subparsers(
        dest="documents_command", required=True
    )
    documents_add = documents.add_parser(
        "add", help="register GraphQL documents (files); prints their ids"
    )
    documents_add.add_argument("files", nargs="+")
    documents_add.add_argument("--name", help="a name for them (default: the file's)")
    documents_add.add_argument("--json", action="store_true")
    documents_add.set_defaults(func=cmd_documents_add)
    documents_list = documents.add_parser("list", help="the registered documents")
    documents_list.add_argument("--json", action="store_true")
    documents_list.set_defaults(func=cmd_documents_list)

    keys = sub.add_parser("keys", help="token-signing keys").add_subparsers(
        dest="keys_command", required=True
    )
    rotate = keys.add_parser("rotate", help="a new signing key; the old ones still verify")
    rotate.add_argument("--json", action="store_true")
    rotate.set_defaults(func=cmd_keys_rotate)
    retire = keys.add_parser("retire", help="remove an old verification key")
    retire.add_argument("kid", help="the key id (after --, as it may begin with -)")
    retire.add_argument("--json", action="store_true")
    retire.set_defaults(func=cmd_keys_retire)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (HubError, ConfigError) as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        raise SystemExit(130) from None
