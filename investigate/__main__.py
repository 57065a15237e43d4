"""``python -m investigate`` — the same as the ``investigate`` command."""

from .cli import main

if __name__ == "__main__":
    main()
