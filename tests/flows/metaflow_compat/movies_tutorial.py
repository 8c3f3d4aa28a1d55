"""Metaflow's tutorial style: the data file is named with a script_path()
helper (the file beside this module) and the genres are split into a
foreach over the movies of each genre."""

import os

from metaflow import FlowSpec, IncludeFile, Parameter, step


def script_path(filename):
    """The file of that name beside this flow, wherever it is run from."""
    return os.path.join(os.path.dirname(os.path.realpath(__file__)), filename)


class MoviesTutorialFlow(FlowSpec):
    """Count the movies of each genre in an included CSV file."""

    movie_data = IncludeFile("movie_data", help="the movies, one per line", default=script_path("data/movies.csv"))
    min_year = Parameter("min_year", help="movies from this year on", default=1990)

    @step
    def start(self):
        rows = [line.split(",") for line in self.movie_data.strip().splitlines()[1:]]
        self.movies = [r for r in rows if int(r[1]) >= self.min_year]
        self.genres = sorted({r[2] for r in self.movies})
        self.next(self.genre, foreach="genres")

    @step
    def genre(self):
        self.name = self.input
        self.titles = sorted(r[0] for r in self.movies if r[2] == self.name)
        self.next(self.join)

    @step
    def join(self, inputs):
        self.counts = {i.name: len(i.titles) for i in inputs}
        self.next(self.end)

    @step
    def end(self):
        self.total = sum(self.counts.values())


if __name__ == "__main__":
    MoviesTutorialFlow()
