"""``python -m cnn_helpers``: build the lessons, grade notebooks, set up the working copy."""

from cnn_helpers.course.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
