import multiprocessing

from filmstudio.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # frozen bundles: the TTS workers start through this entry point
    raise SystemExit(main())
