"""`python -m jitspv <command>`: small maintenance commands, one function per command."""
import sys


def _cache(args):
    from jitspv.frontend.cache import cli
    return cli(args)


COMMANDS = {"cache": _cache}


def main(argv):
    if not argv or argv[0] not in COMMANDS:
        print(f"usage: python -m jitspv {{{'|'.join(COMMANDS)}}} ...")
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
