"""The players: one declaration file per player (:mod:`geogame.agents.players`), the parts their
menus are made of (:mod:`geogame.agents.menu`), the menus and utilities gathered for play
(:mod:`geogame.agents.moves`, :mod:`geogame.agents.utility`) and the Mesa agent that decides
(:mod:`geogame.agents.country`)."""
