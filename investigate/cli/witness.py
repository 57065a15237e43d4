"""``investigate witness``: vouch for other newsrooms' logs, and choose who vouches for ours."""

from __future__ import annotations

import click

from .util import echo, echo_json, echo_result, json_option, pass_workspace


@click.group()
def witness():
    """Witnesses: newsrooms that cosign each other's log checkpoints.

    \b
    As a witness:  witness key, witness trust ORIGIN LOG-KEY, witness serve
    As a log:      witness use WITNESS-KEY --url URL, checkpoint --witness URL,
                   verify --against FILE --witnesses N"""


@witness.command("key")
@json_option
@pass_workspace
def key(ws, as_json):
    """Print this workspace's witness key, for the logs it witnesses.

    Those logs trust it with 'witness use KEY --url URL'."""
    from ..proof.witness import witness_key, witness_name

    data = {"name": witness_name(ws), "verifier_key": witness_key(ws)}
    echo_json(data) if as_json else echo(data["verifier_key"])


@witness.command("trust")
@click.argument("origin")
@click.argument("log_key", metavar="LOG-KEY")
@json_option
@pass_workspace
def trust(ws, origin, log_key, as_json):
    """Witness the log ORIGIN, whose checkpoints LOG-KEY signs.

    ORIGIN is the first line of that log's checkpoints; LOG-KEY its verifier key (the other
    workspace's [log] public_key). The first checkpoint it sends is cosigned as it is; every
    later one only when it proves it extends the last one cosigned here."""
    from ..proof.witness import trust_log

    row = trust_log(ws, origin, log_key)
    echo_json(row) if as_json else echo(f"Witnessing {row['origin']} (last cosigned size {row['size']}).")


@witness.command("use")
@click.argument("witness_key", metavar="WITNESS-KEY")
@click.option("--url", help="Where the witness answers add-checkpoint (e.g. http://127.0.0.1:8130).")
@json_option
@pass_workspace
def use(ws, witness_key, url, as_json):
    """Trust the witness with WITNESS-KEY, and ask it at --url.

    WITNESS-KEY is what 'witness key' prints there. 'checkpoint --witness URL' asks it to
    cosign; 'verify --witnesses N' counts its cosignatures."""
    from ..proof.witnessing import use_witness

    row = use_witness(ws, witness_key, url)
    echo_json(row) if as_json else echo(f"Trusting witness {row['name']}" + (f" at {row['url']}." if row["url"] else "."))


@witness.command("list")
@json_option
@pass_workspace
def list_(ws, as_json):
    """The logs this workspace witnesses and the witnesses it trusts."""
    from ..proof.witness import witnessed_logs
    from ..proof.witnessing import log_witnesses

    data = {"witnessing": witnessed_logs(ws), "witnesses": log_witnesses(ws)}
    if as_json:
        return echo_json(data)
    echo_result(data["witnessing"], columns=["origin", "size", "cosigned_at"], title="Logs witnessed here:")
    echo_result(data["witnesses"], columns=["name", "url", "added_at"], title="Witnesses of this log:")


@witness.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8130, show_default=True,
              help="Port (0: any free one; the URL is printed).")
@pass_workspace
def serve(ws, host, port):
    """Cosign trusted logs' checkpoints over HTTP (tlog-witness).

    Cosigns a checkpoint only with a valid consistency proof from the one it last cosigned
    for that log; refuses with 404 (a log not witnessed here), 403 (no valid signature of
    its key), 409 (another size than last cosigned, or a rewritten history), 422 (a proof
    that does not verify) or 400 (a malformed request). Each answer is printed on one line."""
    from ..proof.witness import witness_name, witness_server

    server = witness_server(ws, host, port, on_answer=lambda line: echo(line, err=True))
    bound_host, bound_port = server.server_address[:2]
    echo(f"Witness {witness_name(ws)} at http://{bound_host}:{bound_port} (Ctrl-C to stop)", err=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
