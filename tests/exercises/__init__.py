"""Tests of gdcourse.exercises, one file per module: test_lessonNN.py holds lesson NN's checks.

``kit.py`` holds what several of these files share (the running example, learner answers
that later lessons build on, the judging helpers); like the lesson modules, no test file
imports another.
"""
