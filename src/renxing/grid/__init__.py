"""The grid of responsibility: street → community → compound → area → building → household."""
