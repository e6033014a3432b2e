import threading

from django.http import HttpResponse, JsonResponse
from django.urls import path


def root(request):
    return JsonResponse({"message": "Hello from Django", "site": request.environ["workers.env"].SITE})


def echo(request, name):
    return JsonResponse(
        {
            "name": name,
            "q": request.GET.get("q"),
            "method": request.method,
            "body": request.body.decode(),
            "thread": threading.current_thread().name != "MainThread",
        }
    )


def page(request):
    return HttpResponse("<h1>Django</h1>", content_type="text/html; charset=utf-8")


urlpatterns = [path("", root), path("echo/<str:name>", echo), path("page", page)]
