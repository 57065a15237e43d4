"""Groups whose first argument may be a subcommand or the default command's own: ``review
VISIT approve`` beside ``review queue``, ``checklist CASE`` beside ``checklist signoff``."""

from __future__ import annotations

import click


class DefaultCommandGroup(click.Group):
    """A group whose first argument may be a subcommand or, failing that, the default
    command's first argument: ``review VISIT approve`` beside ``review queue``."""

    default_command = None

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands and self.default_command:
            return self.default_command, self.commands[self.default_command], args
        return super().resolve_command(ctx, args)

    def format_usage(self, ctx, formatter):
        formatter.write_usage(ctx.command_path, self.usage_text)


class DefaultCommand(click.Command):
    """The hidden default command of a ``DefaultCommandGroup``: its usage is the group's, as
    the user never typed its name."""

    def format_usage(self, ctx, formatter):
        ctx.parent.command.format_usage(ctx.parent, formatter)
