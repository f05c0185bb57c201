from stockflow.core.errors import Conflict, NotFound


class ReservationNotActive(Conflict):
    slug, title = "reservation-not-active", "The reservation is no longer active"


def reservation_not_found(reservation_id: int) -> NotFound:
    return NotFound(f"Reservation {reservation_id} not found.")


def not_active(reservation_id: int, status: str, action: str) -> ReservationNotActive:
    return ReservationNotActive(
        f"Reservation {reservation_id} is {status}; only an active reservation can be {action}."
    )
