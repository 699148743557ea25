"""python -m gofutures <command>

  demo          run the same small workload on concurrent.futures and on
                gofutures, side by side, and check that the results agree
  bench [...]   the benchmark suite (see benchmarks/README.md)
  top [...]     a live table of pool statistics while a demo runs
                (--interval, --duration, --once)
  --version     print gofutures' version
"""
import sys


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    cmd = argv.pop(0) if argv else "demo"
    if cmd == "demo":
        from .tools import demo
        return demo.main(argv)
    if cmd == "bench":
        from .bench import cli
        return cli.main(argv)
    if cmd == "top":
        from .tools import top
        return top.main(argv)
    if cmd in ("-V", "--version", "version"):
        # _version only: no engine load, so this works wherever the wheel installed.
        from ._version import __version__
        print("gofutures", __version__)
        return 0
    if cmd in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    print("unknown command %r\n%s" % (cmd, __doc__), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
