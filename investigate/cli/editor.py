"""``investigate editor``: the people who log in to the editors' Datasette, each under their own name."""

from __future__ import annotations

import sys

import click

from ..store.accounts import add_account, list_accounts, remove_account
from ..vocabulary import ACCOUNT_ROLES
from .util import echo, echo_json, echo_result, json_option, pass_workspace


@click.group()
def editor():
    """The people who log in to `investigate serve`, each with a role.

    editor (decides reviews, asks for replies), legal (signs a case off) or reporter (reads
    only). Every decision made in the browser is logged under the account's name."""


@editor.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ACCOUNT_ROLES), required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (scripts).")
@json_option
@pass_workspace
def editor_add(ws, name, role, password_stdin, as_json):
    """Add NAME's account, or give it a new role and password.

    Asks for the password twice (at least 10 characters)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)
    row = add_account(ws, name, role=role, password=password)
    if as_json:
        echo_json(row)
    else:
        echo(f"{'Changed' if row['changed'] else 'Added'} {row['name']} ({row['role']}).")


@editor.command("remove")
@click.argument("name")
@json_option
@pass_workspace
def editor_remove(ws, name, as_json):
    """Remove NAME's account.

    No new login, and a session already open loses its rights at its next request."""
    row = remove_account(ws, name)
    if as_json:
        echo_json(row)
    else:
        echo(f"Removed {row['name']} ({row['role']}).")


@editor.command("list")
@json_option
@pass_workspace
def editor_list(ws, as_json):
    """Every account with its role."""
    echo_result(list_accounts(ws.root), as_json=as_json, columns=["name", "role", "added_at"],
                empty="No accounts: `investigate serve` opens on 127.0.0.1 only, and nobody can decide in it.")
